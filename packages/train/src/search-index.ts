// @minibatch/train/search (Node): hyper-parameter search on local processes or a BullMQ queue.
export * from './search-node.js';
export * from './search-queue.js';
