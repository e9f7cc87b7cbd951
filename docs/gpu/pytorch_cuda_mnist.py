"""The reference models of ../shared/reference/pytorch_mnist.py, trained on a CUDA GPU.

Same models, batch sizes, optimizers and output lines as that script (plus "device"), so
`dlsuite bench --backends wgpu --torch python3 --reference docs/gpu/pytorch_cuda_mnist.py`
prints Burn-on-wgpu beside PyTorch-on-CUDA. The data sit on the GPU; two untimed training
steps and one untimed inference batch come first, as in `dlsuite bench`.
Usage: python pytorch_cuda_mnist.py MODEL EPOCHS [DATA_DIR]   (MODEL: softmax | mlp300 | dnn512 | cnn)
"""
import gzip, json, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

model_name, epochs = sys.argv[1], int(sys.argv[2])
data = sys.argv[3] if len(sys.argv) > 3 else "shared/data/mnist"
if not torch.cuda.is_available():
    sys.exit("no CUDA device: use ../shared/reference/pytorch_mnist.py for the CPU")
dev = torch.device("cuda")
torch.manual_seed(0)

def idx(path, off):
    return np.frombuffer(gzip.open(path).read()[off:], np.uint8)

t0 = time.perf_counter()
xtr = idx(f"{data}/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
ytr = idx(f"{data}/train-labels-idx1-ubyte.gz", 8)
xte = idx(f"{data}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
yte = idx(f"{data}/t10k-labels-idx1-ubyte.gz", 8)
load_s = time.perf_counter() - t0
norm = lambda x: ((torch.from_numpy(x.astype(np.float32)) / 255 - 0.1307) / 0.3081).to(dev)
xtr, xte = norm(xtr), norm(xte)
ytr = torch.from_numpy(ytr.astype(np.int64)).to(dev)
yte = torch.from_numpy(yte.astype(np.int64)).to(dev)


class CNN(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        s.d1, s.d2 = nn.Dropout(0.25), nn.Dropout(0.5)
        s.f1, s.f2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c2(F.relu(s.c1(x)))), 2)
        return s.f2(s.d2(F.relu(s.f1(s.d1(x).flatten(1)))))


def mlp(sizes, dropout=0.0):
    layers = [nn.Flatten()]
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


nets = {
    "softmax": (lambda: mlp([784, 10]), 100, lambda p: torch.optim.SGD(p, lr=0.1)),
    "mlp300": (lambda: mlp([784, 300, 100, 10]), 50, lambda p: torch.optim.Adam(p, lr=1e-3)),
    "dnn512": (lambda: mlp([784, 512, 512, 512, 512, 10], 0.3), 100, lambda p: torch.optim.Adam(p, lr=1e-3)),
    "cnn": (CNN, 64, lambda p: torch.optim.Adam(p, lr=1e-3)),
}
if model_name not in nets:
    sys.exit(f"unknown model {model_name}")
make, bs, make_opt = nets[model_name]
net = make().to(dev)
opt = make_opt(net.parameters())
params = sum(p.numel() for p in net.parameters())


def step(b):
    opt.zero_grad()
    loss = F.cross_entropy(net(xtr[b]), ytr[b])
    loss.backward()
    opt.step()
    return loss


net.train()
for b in torch.randperm(len(xtr), device=dev)[: 2 * bs].split(bs):
    step(b)
with torch.no_grad():
    net.eval(); net(xte[:1000]).argmax(1).cpu()
torch.cuda.synchronize()

for epoch in range(1, epochs + 1):
    net.train(); t0 = time.perf_counter()
    for b in torch.randperm(len(xtr), device=dev).split(bs):
        loss = step(b)
    loss.item()
    train_s = time.perf_counter() - t0
    net.eval(); t0 = time.perf_counter(); correct = 0
    with torch.no_grad():
        for i in range(0, len(xte), 1000):
            correct += (net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
    infer_s = time.perf_counter() - t0
    print(json.dumps(dict(model=model_name, epoch=epoch, batch=bs, params=params, train_s=round(train_s, 3),
        test_acc=correct / len(xte), infer_img_per_s=round(len(xte) / infer_s), load_s=round(load_s, 3),
        torch=torch.__version__, device=torch.cuda.get_device_name())), flush=True)
