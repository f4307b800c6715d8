# The PyTorch (CPU) peer of bench/train.mjs: one system/case per process, started by
# train.mjs with a JSON job (case, threads, data dir, result file, pacing and budget) as its
# only argument; it writes its result as JSON to job["out"]. Same data files, same models
# (NCHW), Adam lr 1e-3 (ε 1e-8), batch 64, a new random order every epoch, float32, torch's
# default initializers; the loss is read back after every step, like the other systems.
# The Pacer follows train.mjs's rules (warm-up, 25-step windows, budget).
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Pacer:
    """Where the warm-up ends, how long a timed window is, when to stop: train.mjs's rules."""

    def __init__(self, job, total_steps):
        self.job, self.total = job, total_steps
        self.steps, self.rates, self.window = 0, [], 0
        self.timed_steps, self.timed_seconds = 0, 0.0
        self.t0 = time.perf_counter()

    def step(self, size):
        now, job = time.perf_counter(), self.job
        elapsed = now - self.t0
        self.steps += 1
        if self.steps == 1:  # start-up: from spawn to one finished step
            self.first_step_s = time.time() - job["spawnedAt"] / 1000
        if self.window == 0:
            if self.steps == 1:
                self.t1 = now
            if self.steps < job["warmupSteps"] and elapsed < job["warmupS"]:
                return True
            pace = (now - self.t1) / (self.steps - 1) if self.steps > 1 else elapsed
            if self.fits(elapsed, pace):
                self.window = job["window"]
            else:
                self.window = min(job["window"], max(1, int((job["budgetS"] - elapsed) // (3 * pace))))
            self.start, self.in_window, self.samples = now, 0, 0
            return True
        self.in_window += 1
        self.samples += size
        if self.in_window < self.window:
            return True
        seconds = now - self.start
        self.rates.append(self.samples / seconds)
        self.timed_steps += self.window
        self.timed_seconds += seconds
        self.start, self.in_window, self.samples = now, 0, 0
        pace = self.timed_seconds / self.timed_steps
        return self.fits(elapsed, pace) or len(self.rates) < 3 or elapsed + self.window * pace <= job["budgetS"]

    def fits(self, elapsed, pace):
        return elapsed + (self.total - self.steps) * pace <= 1.25 * self.job["budgetS"]


def read(directory, name, dtype):
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        sys.exit(f"train_torch.py: {path} is missing — run node bench/train.mjs, which exports the data")
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype)


def model_for(case):
    if case == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )


def blas_in_use():
    """The BLAS libraries this process has mapped, after a matrix product has run."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line}
    libs = sorted(p for p in paths if "blas" in os.path.basename(p).lower())
    return ", ".join(libs) or "none mapped"


def main(job):
    torch.set_num_threads(job["threads"])
    torch.manual_seed(1)
    d = job["dir"]
    # NHWC [n, 28, 28, 1] on disk; with one channel NCHW is the same bytes, viewed [n, 1, 28, 28].
    train_x = read(d, "train_x.f32", torch.float32).view(-1, 1, 28, 28)
    train_y = read(d, "train_y.i32", torch.int32).long()
    test_x = read(d, "test_x.f32", torch.float32).view(-1, 1, 28, 28)
    test_y = read(d, "test_y.i32", torch.int32).long()
    n, batch = len(train_y), job["batch"]
    model = model_for(job["case"])
    optimizer = torch.optim.Adam(model.parameters(), lr=job["lr"], betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = (n + batch - 1) // batch
    pacer = Pacer(job, job["epochs"] * steps_per_epoch)
    model.train()
    going = True
    for _ in range(job["epochs"]):
        order = torch.randperm(n)
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
            going = pacer.step(len(idx))
            if not going:
                break
        if not going:
            break
    finished = pacer.steps == pacer.total
    accuracy = None
    if finished:
        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    note = (f"PyTorch {torch.__version__} ({sys.executable}), {torch.get_num_threads()} thread(s), BLAS: {blas_in_use()}"
            f"; oneDNN (mkldnn) {'on' if torch.backends.mkldnn.is_available() else 'off'}")
    result = {"rates": pacer.rates, "window": pacer.window, "steps": pacer.steps, "finished": finished,
              "trainCount": n, "accuracy": accuracy, "note": note, "firstStepS": pacer.first_step_s,
              "rssPeak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    with open(job["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 train_torch.py '<job JSON>' (started by node bench/train.mjs)")
    main(json.loads(sys.argv[1]))
