"""PyTorch CPU reference for scripts/bench-engine: the same ResNets as wtrain's
(src/models: BN after ReLU, 1x1 projection shortcuts, no conv biases), trained
with SGD + Nesterov momentum under backprop. Prints JSON rows on stdout."""
import argparse, json, time
import torch
import torch.nn as nn

class Unit(nn.Sequential):
    def __init__(self, cin, cout, k, s, relu, after_relu=True):
        conv = nn.Conv2d(cin, cout, k, s, (k - 1) // 2, bias=False)
        bn = nn.BatchNorm2d(cout)
        if not relu:
            super().__init__(conv, bn)
        elif after_relu:
            super().__init__(conv, nn.ReLU(), bn)
        else:
            super().__init__(conv, bn, nn.ReLU())

class Basic(nn.Module):
    def __init__(self, cin, cout, s):
        super().__init__()
        self.branch = nn.Sequential(Unit(cin, cout, 3, s, True), Unit(cout, cout, 3, 1, False))
        self.short = None if (s == 1 and cin == cout) else Unit(cin, cout, 1, s, False)
    def forward(self, x):
        return torch.relu(self.branch(x) + (x if self.short is None else self.short(x)))

def resnet(arch, classes=10):
    spec = {'resnet20': ('cifar', [3, 3, 3], [16, 32, 64]), 'resnet18': ('imagenet', [2, 2, 2, 2], [64, 128, 256, 512])}
    stem, blocks, widths = spec[arch]
    layers = [Unit(3, widths[0] if stem == 'cifar' else 64, 3 if stem == 'cifar' else 7, 1 if stem == 'cifar' else 2, True)]
    if stem == 'imagenet':
        layers.append(nn.MaxPool2d(3, 2, 1))
    c = widths[0] if stem == 'cifar' else 64
    for i, (n, w) in enumerate(zip(blocks, widths)):
        for b in range(n):
            layers.append(Basic(c, w, 2 if (b == 0 and i > 0) else 1))
            c = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nets', default='resnet20:128,resnet18:64')
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for spec in a.nets.split(','):
        arch, b = spec.split(':')
        b = int(b)
        model = resnet(arch)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
        x = torch.randn(b, 3, a.size, a.size)
        y = torch.randint(0, 10, (b,))
        times = []
        for i in range(a.steps + 1):
            t = time.perf_counter()
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            if i:
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        rows.append({'net': arch, 'batch': b, 'impl': f'pytorch bp ({a.threads} thread{"s" if a.threads > 1 else ""})', 'ms': times[len(times) // 2]})
    print(json.dumps(rows))

if __name__ == '__main__':
    main()
