# The PyTorch (CPU) peer of bench/pretrained.mjs's fine-tuning step: the same MobileNetV2
# (Sandler et al. 2018, width 1.0, as Keras builds it: 17 inverted-residual blocks, ReLU6,
# Conv_1 to 1280 channels) with a new head (global average pool, linear 10). Blocks 13-16 and
# Conv_1 train, everything below is frozen, and every BatchNorm runs in inference mode with its
# parameters frozen — as the minibatch cell. Batch 32 of random 224x224 images, Adam lr 1e-3,
# softmax cross-entropy; random weights (timing needs no pretrained ones). Started by
# pretrained.mjs with a JSON job; writes {"rates": [...], "note": ...} to job["out"].
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, kernel, stride, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=1e-3)]
    if act:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        mid = cin * expansion
        self.expand = conv_bn(cin, mid, 1, 1) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn(mid, mid, 3, stride, groups=mid)
        self.project = conv_bn(mid, cout, 1, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


def mobilenet_v2():
    # (expansion, channels, repeats, first stride): the table of the paper, as Keras builds it.
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    blocks = [conv_bn(3, 32, 3, 2)]
    cin = 32
    for t, c, n, s in table:
        for i in range(n):
            blocks.append(Block(cin, c, s if i == 0 else 1, t))
            cin = c
    blocks.append(conv_bn(cin, 1280, 1, 1))
    return nn.Sequential(*blocks)


def main():
    job = json.loads(sys.argv[1])
    torch.set_num_threads(job["threads"])
    torch.manual_seed(1)
    features = mobilenet_v2()
    head = nn.Linear(1280, 10)
    # features[0] is Conv1, [1] expanded_conv, [2..17] blocks 1..16, [18] Conv_1: thaw from block 13.
    for i, module in enumerate(features):
        for p in module.parameters():
            p.requires_grad = i >= 14
    for m in features.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            for p in m.parameters():
                p.requires_grad = False
    params = [p for p in list(features.parameters()) + list(head.parameters()) if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-8)
    x = torch.rand(32, 3, 224, 224)
    y = torch.arange(32) % 10

    def step():
        optimizer.zero_grad()
        logits = head(F.adaptive_avg_pool2d(features(x), 1).flatten(1))
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(2):
        step()
    t = time.perf_counter()
    step()
    once = time.perf_counter() - t
    reps = max(1, round(1.5 / once))
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        rates.append(32 * reps / (time.perf_counter() - t0))
    note = f"torch {torch.__version__}, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}, {len(params)} tensors train"
    with open(job["out"], "w") as f:
        json.dump({"rates": rates, "note": note}, f)


main()
