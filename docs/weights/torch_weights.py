"""The PyTorch side of `dlsuite export` / `dlsuite import`: the reference
script's four nets, under the same parameter names, trained or scored here.

  python torch_weights.py train MODEL EPOCHS OUT DATA_DIR   # OUT: .safetensors or .pt
  python torch_weights.py eval MODEL FILE DATA_DIR          # test accuracy of FILE's weights

MODEL: softmax | mlp300 | dnn512 | cnn. Needs numpy, torch and safetensors.
"""
import gzip, json, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from safetensors.torch import load_file, save_file


class CNN(nn.Module):
    """The reference CNN: conv 32, conv 64, max-pool, dropout, fc 128."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.d1, self.d2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.f1, self.f2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2)
        x = self.d1(x).flatten(1)
        return self.f2(self.d2(F.relu(self.f1(x))))


def mlp(widths, dropout=0.0):
    """Flatten, then Linear and ReLU (and Dropout) per hidden width."""
    layers = [nn.Flatten()]
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


NETS = {
    "softmax": (lambda: mlp([784, 10]), 100),
    "mlp300": (lambda: mlp([784, 300, 100, 10]), 50),
    "dnn512": (lambda: mlp([784, 512, 512, 512, 512, 10], 0.3), 100),
    "cnn": (CNN, 64),
}


def images(data, split):
    raw = np.frombuffer(gzip.open(f"{data}/{split}-images-idx3-ubyte.gz").read()[16:], np.uint8)
    x = (torch.from_numpy(raw.reshape(-1, 1, 28, 28).astype(np.float32)) / 255 - 0.1307) / 0.3081
    labels = np.frombuffer(gzip.open(f"{data}/{split}-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    return x, torch.from_numpy(labels.astype(np.int64))


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        right = sum((net(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    return right / len(x)


def main():
    command, model = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    make, batch = NETS[model]
    net = make()
    if command == "train":
        epochs, out, data = int(sys.argv[3]), sys.argv[4], sys.argv[5]
        x, y = images(data, "train")
        opt = (torch.optim.SGD(net.parameters(), lr=0.1) if model == "softmax"
               else torch.optim.Adam(net.parameters(), lr=1e-3))
        for epoch in range(1, epochs + 1):
            net.train()
            started = time.perf_counter()
            order = torch.randperm(len(x))
            for i in range(0, len(x), batch):
                b = order[i:i + batch]
                opt.zero_grad()
                F.cross_entropy(net(x[b]), y[b]).backward()
                opt.step()
            print(json.dumps(dict(epoch=epoch, seconds=round(time.perf_counter() - started, 1))), flush=True)
        state = {k: v.contiguous() for k, v in net.state_dict().items()}
        save_file(state, out) if out.endswith(".safetensors") else torch.save(state, out)
        xt, yt = images(data, "t10k")
        print(json.dumps(dict(model=model, saved=out, test_acc=accuracy(net, xt, yt))))
    elif command == "eval":
        path, data = sys.argv[3], sys.argv[4]
        state = load_file(path) if path.endswith(".safetensors") else torch.load(path)
        net.load_state_dict(state)
        xt, yt = images(data, "t10k")
        print(json.dumps(dict(model=model, weights=path, test_acc=accuracy(net, xt, yt))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
