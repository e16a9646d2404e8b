"""Classification heads and losses for face recognition, each written from its paper's formula.

A head turns embeddings x (N, D) and labels y into logits over the classes; a criterion turns logits into a
loss. With W the class centres, cos t_j = <x/|x|, W_j/|W_j|>, and s the scale:

- softmax: W x + b (plain linear layer).
- ArcFace (Deng et al. 2019): s cos(t_y + m) for the true class, s cos t_j for the others. ``easy_margin``
  applies the margin only where cos t_y > 0; otherwise, where t_y + m would pass pi, cos t_y - m sin(m) is
  used (InsightFace's monotonic extension) so the logit keeps falling as t_y grows.
- CosFace (Wang et al. 2018): s (cos t_y - m).
- SphereFace / A-Softmax (Liu et al. 2017): |x| psi(t_y) for the true class, |x| cos t_j for the others,
  psi(t) = (-1)^k cos(m t) - 2k for t in [k pi/m, (k+1) pi/m], m an integer; ``lambda_`` blends in |x| cos t_y
  as the paper's training schedule does: (lambda |x| cos t_y + |x| psi(t_y)) / (1 + lambda).
- Combined margins (InsightFace): s (cos(m1 t_y + m2) - m3).
- AdaCos (Zhang et al. 2019): s cos t_j with s adapted each training step:
  s = log(B_avg) / cos(min(pi/4, t_med)), B_avg the batch mean of sum_{j != y} exp(s cos t_j), t_med the
  median t_y; initial s = sqrt(2) log(C - 1).
- Focal loss (Lin et al. 2017): -(1 - p_y)^gamma log p_y.
- Center loss (Wen et al. 2016), with softmax: CE + lambda/2 * mean_i |x_i - c_{y_i}|^2.
- Partial FC (An et al. 2021): each step computes logits only for a sampled fraction of the class centres
  (every class of the batch plus random others), so millions of identities fit.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MARGIN_HEADS = ("softmax", "arcface", "cosface", "sphereface", "combined", "adacos")
CRITERIA = ("ce", "focal")


def arcface_logits(cos: torch.Tensor, labels: torch.Tensor, s: float, m: float,
                   easy_margin: bool = False) -> torch.Tensor:
    target = cos.gather(1, labels[:, None]).clamp(-1.0, 1.0)
    sin = torch.sqrt((1.0 - target * target).clamp_min(0.0))
    with_margin = target * math.cos(m) - sin * math.sin(m)  # cos(t + m)
    if easy_margin:
        with_margin = torch.where(target > 0, with_margin, target)
    else:
        with_margin = torch.where(target > math.cos(math.pi - m), with_margin, target - math.sin(math.pi - m) * m)
    return s * cos.scatter(1, labels[:, None], with_margin)


def cosface_logits(cos: torch.Tensor, labels: torch.Tensor, s: float, m: float) -> torch.Tensor:
    return s * (cos - m * F.one_hot(labels, cos.shape[1]).to(cos.dtype))


def combined_logits(cos: torch.Tensor, labels: torch.Tensor, s: float, m1: float, m2: float,
                    m3: float) -> torch.Tensor:
    target = cos.gather(1, labels[:, None]).clamp(-1.0 + 1e-7, 1.0 - 1e-7)
    with_margin = torch.cos(m1 * torch.acos(target) + m2) - m3
    return s * cos.scatter(1, labels[:, None], with_margin)


def sphereface_logits(cos: torch.Tensor, labels: torch.Tensor, norms: torch.Tensor, m: int,
                      lambda_: float = 0.0) -> torch.Tensor:
    target = cos.gather(1, labels[:, None]).clamp(-1.0, 1.0)
    theta = torch.acos(target)
    k = torch.floor(m * theta / math.pi)
    psi = (1.0 - 2.0 * torch.remainder(k, 2)) * torch.cos(m * theta) - 2.0 * k
    blended = (lambda_ * target + psi) / (1.0 + lambda_)
    return norms[:, None] * cos.scatter(1, labels[:, None], blended)


def adacos_scale(cos: torch.Tensor, labels: torch.Tensor, s: float) -> float:
    """The AdaCos scale for the next step from this batch's cosines at the current scale ``s``."""
    with torch.no_grad():
        others = torch.ones_like(cos, dtype=torch.bool).scatter(1, labels[:, None], False)
        b_avg = torch.where(others, torch.exp(s * cos), torch.zeros_like(cos)).sum(1).mean()
        theta_med = torch.acos(cos.gather(1, labels[:, None]).clamp(-1.0, 1.0)).median()
        return float(torch.log(b_avg) / torch.cos(torch.clamp(theta_med, max=math.pi / 4)))


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    log_p = F.log_softmax(logits, 1).gather(1, labels[:, None]).squeeze(1)
    return (-(1.0 - log_p.exp()) ** gamma * log_p).mean()


class MarginHead(nn.Module):
    """Class centres and one of ``MARGIN_HEADS``; ``sample_rate`` < 1 turns on Partial FC sampling."""

    def __init__(self, kind: str, embedding_size: int, classes: int, s: float = 64.0, m: float = 0.5,
                 easy_margin: bool = False, margins: tuple[float, float, float] = (1.0, 0.3, 0.2),
                 sphere_m: int = 4, sphere_lambda: float = 0.0, sample_rate: float = 1.0) -> None:
        super().__init__()
        if kind not in MARGIN_HEADS:
            raise ValueError(f"unknown head {kind!r}; choose one of {', '.join(MARGIN_HEADS)}")
        if not 0.0 < sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate}")
        self.kind, self.s, self.m, self.easy_margin = kind, s, m, easy_margin
        self.margins, self.sphere_m, self.sphere_lambda = margins, sphere_m, sphere_lambda
        self.sample_rate, self.classes = sample_rate, classes
        self.weight = nn.Parameter(torch.empty(classes, embedding_size).normal_(0.0, 0.01))
        self.bias = nn.Parameter(torch.zeros(classes)) if kind == "softmax" else None
        if kind == "adacos":
            self.s = math.sqrt(2.0) * math.log(classes - 1)

    def sample(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Partial FC: the class indices used this step (sorted) and the labels renumbered into them."""
        positive = torch.unique(labels)
        wanted = max(int(math.ceil(self.sample_rate * self.classes)), len(positive))
        if wanted >= self.classes:
            return torch.arange(self.classes, device=labels.device), labels
        scores = torch.rand(self.classes, device=labels.device)
        scores[positive] = 2.0  # every class of the batch is kept
        index = torch.sort(torch.topk(scores, wanted).indices).values
        return index, torch.searchsorted(index, labels)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the labels they are indexed by (renumbered when Partial FC samples)."""
        index, labels = self.sample(labels) if self.training and self.sample_rate < 1.0 else (None, labels)
        weight = self.weight if index is None else self.weight[index]
        if self.kind == "softmax":
            bias = self.bias if index is None else self.bias[index]
            return F.linear(embeddings, weight, bias), labels
        cos = F.linear(F.normalize(embeddings), F.normalize(weight)).clamp(-1.0, 1.0)
        if self.kind == "arcface":
            return arcface_logits(cos, labels, self.s, self.m, self.easy_margin), labels
        if self.kind == "cosface":
            return cosface_logits(cos, labels, self.s, self.m), labels
        if self.kind == "combined":
            return combined_logits(cos, labels, self.s, *self.margins), labels
        if self.kind == "sphereface":
            return sphereface_logits(cos, labels, embeddings.norm(dim=1), self.sphere_m, self.sphere_lambda), labels
        logits = self.s * cos  # AdaCos: no margin, the scale adapts
        if self.training:
            self.s = adacos_scale(cos, labels, self.s)
        return logits, labels


class CenterLoss(nn.Module):
    """lambda/2 * mean |x_i - c_{y_i}|^2 with learnable centres c (added to a softmax loss)."""

    def __init__(self, classes: int, embedding_size: int, weight: float) -> None:
        super().__init__()
        self.centers = nn.Parameter(torch.zeros(classes, embedding_size))
        self.weight = weight

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.weight / 2.0 * ((embeddings - self.centers[labels]) ** 2).sum(1).mean()


class RecognitionLoss(nn.Module):
    """Head + criterion (+ optional center loss): ``loss, logits, labels = module(embeddings, labels)``."""

    def __init__(self, head: MarginHead, criterion: str = "ce", focal_gamma: float = 2.0,
                 center_weight: float = 0.0) -> None:
        super().__init__()
        if criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
        self.head, self.criterion, self.focal_gamma = head, criterion, focal_gamma
        self.center = CenterLoss(head.classes, head.weight.shape[1], center_weight) if center_weight > 0 else None

    def forward(self, embeddings: torch.Tensor,
                labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, head_labels = self.head(embeddings, labels)
        if self.criterion == "focal":
            loss = focal_loss(logits, head_labels, self.focal_gamma)
        else:
            loss = F.cross_entropy(logits, head_labels)
        if self.center is not None:
            loss = loss + self.center(embeddings, labels)
        return loss, logits, head_labels
