"""CTC prefix search with the character LM, only where the greedy reading is unsure.

:func:`~ocr_engine.recognition.lm.lm_correct` re-chooses the characters the greedy pass
found; it cannot add a character the greedy pass missed (a word space in dense print,
``ora`` for ``or a``) or drop one it made up. The search here can: it scores a reading
by the model's probability summed over all its CTC alignments (so ``or a`` can win when
the space has 0.15 and 0.39 in two frames, though the blank is the best class of each),
plus ``weight`` times the LM's log probability, plus ``bonus`` per character.

It runs only on the *unsure spans* of a line: runs of classified frames in which some
frame's best class has less than ``unsure`` probability, cut at frames that are surely
blank (a frame the blank gate skipped, or one whose blank has at least ``unsure``).
Everything else keeps the greedy reading; a span starts and ends next to a blank, so its
reading stitches in between the greedy characters around it, which are also its LM context
(the two before it, the one or two after it, or the line's ends).

Each frame of a span offers its ``top_k`` classes of at least ``min_prob`` besides the blank.
A span with at most ``max_paths`` alignments over those (nearly all: most spans are one to
three frames) is searched exactly, by listing them; a longer one by a CTC prefix beam search
that keeps ``width`` prefixes. Either way all spans of all lines of an image are searched
together, in a fixed number of array operations (per frame step for the beam search).

An emitted character keeps frames from the search's best alignment: its first frame is the
one where that alignment emits it, its last the end of its run there (for the beam search:
while the next frames favour it over the blank); its confidence is its highest probability
over those frames.

Example:
    >>> import numpy as np
    >>> from ocr_engine.recognition.lm import CharLM
    >>> lm = CharLM.uniform(["a"])
    >>> p = np.array([[0.05, 0.95], [0.6, 0.4], [0.05, 0.95]])   # a, blank (or a), a
    >>> lm_beam_decode(p, lm, BeamSettings(weight=0.0)).text     # weight 0: the greedy reading
    'aa'
    >>> lm_beam_decode(p, lm, BeamSettings(weight=1.0, prior=0.0)).text   # a character costs log 1/2
    'a'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_engine.recognition.ctc import CtcChar, CtcDecoded, best_path, decode_best_path, line_confidence
from ocr_engine.recognition.lm import CharLM

_NEG = -np.inf
_HASH = np.uint64(1_000_003)   # multiplier of the readings' polynomial hash


@dataclass(frozen=True)
class BeamSettings:
    """Parameters of :func:`beam_spans` and :func:`beam_apply`.

    Attributes:
        weight: LM weight (``0`` leaves every reading greedy). 0.1 was chosen on half of the
            real-print dev documents (0.05-0.1 read alike, 0.25 worse) and held on the other
            half and on ``../shared/eval`` (README.md, "The recogniser and its quality").
        bonus: Added for every emitted character.
        prior: Every emitted character ``c`` also earns ``weight * prior * -log P_lm(c)``
            (its LM cost out of context): with ``prior`` 1 the LM weighs a character's fit
            to its context more than its rarity when it decides whether it is there (a rare
            hanzi costs the LM ~9 nats, a space ~2: without this, the LM would rather drop
            the hanzi than pay for it).
        unsure: A classified frame whose best class has less than this probability is unsure.
        top_k: Classes an unsure frame offers besides the blank (a sure one: its best).
        min_prob: Classes under this probability are not offered.
        min_blank: The blank is offered from this probability on (and where it is the best
            class): a character the model is fairly sure of is not dropped.
        max_paths: Spans with at most this many alignments are searched exactly.
        width: Prefixes the beam search keeps (longer spans).
    """

    weight: float = 0.1
    bonus: float = 0.0
    prior: float = 0.75
    unsure: float = 0.9
    top_k: int = 6
    min_prob: float = 0.02
    min_blank: float = 0.2
    max_paths: int = 256
    width: int = 6


@dataclass(frozen=True)
class BeamSpans:
    """The unsure spans of one line, small enough to keep after its probabilities are gone.

    A span is a run of consecutive classified frames, its steps.

    Attributes:
        cls: ``[steps, k]`` classes offered at each step (0 and ``logp`` -inf: none).
        logp: ``[steps, k]`` their log probabilities.
        blank: ``[steps]`` log probability of the blank.
        frame: ``[steps]`` frame of each step.
        bounds: ``[spans + 1]`` step offsets of the spans.
        chars: ``[spans, 2]`` greedy characters ``[lo, hi)`` each span replaces.
        left: ``[spans, 2]`` the two classes before each span (0: the line start).
        right: ``[spans, 2]`` the classes after it (0: the line end, -1: none needed).
    """

    cls: np.ndarray
    logp: np.ndarray
    blank: np.ndarray
    frame: np.ndarray
    bounds: np.ndarray
    chars: np.ndarray
    left: np.ndarray
    right: np.ndarray


def beam_spans(rows: np.ndarray, decoded: CtcDecoded, lm: CharLM, settings: BeamSettings | None = None, *,
               frames: np.ndarray | None = None, best: np.ndarray | None = None,
               best_p: np.ndarray | None = None) -> BeamSpans | None:
    """The unsure spans of one greedily read line, or None when it has none.

    Args:
        rows: ``[M, C]`` probabilities of the classified frames (blank = class 0).
        decoded: The greedy reading of the line.
        lm: The LM (maps the decoded characters to classes).
        settings: Search parameters (``weight``, ``unsure``, ``top_k``, ``min_prob`` are used here).
        frames: The frame of each row (a gated model); None: row ``t`` is frame ``t``.
        best: Best class per frame of the line (as the greedy pass found it); None:
            computed from ``rows``.
        best_p: Its probability per frame.
    """
    s = settings or BeamSettings()
    m = rows.shape[0]
    if m == 0 or s.weight <= 0:
        return None
    fr = np.arange(m) if frames is None else np.asarray(frames, np.int64)
    if best is None or best_p is None:
        am, top = best_path(rows)
    else:
        am, top = best[fr], best_p[fr]
    unsure = top < s.unsure
    if not unsure.any():
        return None
    # Segments: runs of consecutive classified frames, none of them surely blank.
    sure_blank = (am == 0) & ~unsure
    cut = sure_blank.copy()
    cut[0] = True
    cut[1:] |= (fr[1:] - fr[:-1] > 1) | sure_blank[:-1]
    seg = np.cumsum(cut)
    u = seg[unsure]
    ids = u[np.flatnonzero(np.diff(u, prepend=-1))]
    first = np.searchsorted(seg, ids, "left")
    last = np.searchsorted(seg, ids, "right") - 1
    n = len(decoded.chars)
    greedy = np.fromiter((lm.index[c.char] for c in decoded.chars), np.int64, n)
    starts = np.fromiter((c.frame_start for c in decoded.chars), np.int64, n)
    lo = np.searchsorted(starts, fr[first], "left")
    hi = np.searchsorted(starts, fr[last], "right")
    ext = np.concatenate(([0, 0], greedy, [0, -1]))    # two line starts, the greedy classes, the end
    left = np.stack([ext[lo], ext[lo + 1]], axis=1)
    right = np.stack([ext[hi + 2], ext[hi + 3]], axis=1)
    right[right[:, 0] == 0, 1] = -1                      # nothing after the line end
    # The steps: every row of each span.
    lengths = last - first + 1
    offsets = np.cumsum(lengths) - lengths
    r = np.repeat(first - offsets, lengths) + np.arange(int(lengths.sum()))
    # A sure frame offers its best class (and the blank); an unsure one its top_k classes.
    k = max(1, int(s.top_k))
    cls = np.zeros((r.size, k), np.int64)
    logp = np.full((r.size, k), _NEG)
    cls[:, 0] = am[r]
    with np.errstate(divide="ignore"):
        logp[:, 0] = np.log(top[r].astype(np.float64))
        blank = np.log(rows[r, 0].astype(np.float64))
    which = np.flatnonzero(unsure[r])
    cls[which, 0], logp[which, 0] = 0, _NEG
    sub = rows[r[which]]
    mask = sub >= s.min_prob
    mask[:, 0] = False
    ri, ci = np.divmod(np.flatnonzero(mask), mask.shape[1])
    if ri.size:
        pr = sub[ri, ci]
        order = np.lexsort((-pr, ri))
        ri, ci, pr = ri[order], ci[order], pr[order]
        rank = np.arange(ri.size) - np.searchsorted(ri, ri)
        keep = rank < k
        ri, ci, pr, rank = which[ri[keep]], ci[keep], pr[keep], rank[keep]
        cls[ri, rank] = ci
        logp[ri, rank] = np.log(pr.astype(np.float64))
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    return BeamSpans(cls, logp, blank, fr[r], bounds, np.stack([lo, hi], axis=1), left, right)


def _min_log(s: BeamSettings) -> float:
    """``log min_blank`` (-inf for 0)."""
    return float(np.log(s.min_blank)) if s.min_blank > 0 else _NEG


def _lm_terms(tok: np.ndarray, lm: CharLM) -> np.ndarray:
    """Sum per row of ``log P(tok[i] | tok[i-2] tok[i-1])`` over ``i >= 2`` with ``tok[i] >= 0``."""
    ri, pi = np.nonzero(tok[:, 2:] >= 0)
    pi += 2
    lp = lm.logp3(tok[ri, pi - 2], tok[ri, pi - 1], tok[ri, pi])
    return np.bincount(ri, lp, tok.shape[0])


def _enumerate(cls: np.ndarray, logp: np.ndarray, blank: np.ndarray, left: np.ndarray, right: np.ndarray,
               lm: CharLM, s: BeamSettings) -> list[tuple[list[int], list[int], list[int]]]:
    """Exact search of ``S`` spans (``[S, F, k]`` steps, padded with blanks) by listing every
    alignment over the classes offered (and the blank, see ``min_blank``).

    Returns per span the best reading's classes, and the first and last step of each.
    """
    n_spans, n_f, k = cls.shape
    w = float(s.weight)
    # Options per step: the classes offered (first in their rows), then the blank.
    n_cls = (logp > _NEG).sum(axis=2)
    with_blank = (blank >= np.minimum(_min_log(s), logp.max(axis=2))) | (n_cls == 0)   # always on the greedy path
    ocls = np.concatenate([cls, np.zeros((n_spans, n_f, 1), np.int64)], axis=2)
    olp = np.concatenate([logp, np.full((n_spans, n_f, 1), _NEG)], axis=2)
    si, fi = np.nonzero(with_blank)
    ocls[si, fi, n_cls[si, fi]] = 0
    olp[si, fi, n_cls[si, fi]] = blank[si, fi]
    n = n_cls + with_blank
    paths = n.prod(axis=1)
    span = np.repeat(np.arange(n_spans), paths)
    local = np.arange(span.size) - np.repeat(np.cumsum(paths) - paths, paths)
    stride = np.ones_like(n)
    stride[:, :-1] = np.cumprod(n[:, :0:-1], axis=1)[:, ::-1]
    digit = (local[:, None] // stride[span]) % n[span]    # [N, F]: the option of each step
    steps = np.arange(n_f)
    pc = ocls[span[:, None], steps, digit]
    plp = olp[span[:, None], steps, digit].sum(axis=1)
    emit = pc != 0
    emit[:, 1:] &= pc[:, 1:] != pc[:, :-1]
    pos = np.cumsum(emit, axis=1) - 1
    powers = _HASH ** np.arange(n_f, dtype=np.uint64)
    key = (np.where(emit, pc + 1, 0).astype(np.uint64) * powers[np.maximum(pos, 0)]).sum(axis=1, dtype=np.uint64)
    o = np.lexsort((-plp, key, span))                      # by span, reading, then most probable first
    so, ko = span[o], key[o]
    head = np.ones(o.size, bool)
    head[1:] = (so[1:] != so[:-1]) | (ko[1:] != ko[:-1])
    gs = np.flatnonzero(head)
    lp_sorted = plp[o]
    top = lp_sorted[gs]
    shift = np.where(top > _NEG, top, 0.0)
    with np.errstate(divide="ignore"):
        total = shift + np.log(np.add.reduceat(np.exp(lp_sorted - np.repeat(shift, np.diff(gs, append=o.size))), gs))
    rep = o[gs]                                           # each reading's most probable alignment
    g_span = span[rep]
    g_emit = emit[rep]
    g_len = pos[rep, -1] + 1
    ei, ef = np.nonzero(g_emit)
    g_cls = pc[rep[ei], ef]
    tok = np.full((rep.size, n_f + 4), -1, np.int64)
    tok[:, :2] = left[g_span]
    tok[ei, 2 + pos[rep[ei], ef]] = g_cls
    rows = np.arange(rep.size)
    tok[rows, 2 + g_len] = right[g_span, 0]
    tok[rows, 3 + g_len] = right[g_span, 1]
    score = (total + w * _lm_terms(tok, lm) + s.bonus * g_len
             - w * s.prior * np.bincount(ei, lm.unigram[g_cls], rep.size))
    o2 = np.lexsort((-score, g_span))
    firsts = o2[np.searchsorted(g_span[o2], np.arange(n_spans))]   # best reading per span
    best = rep[firsts]
    bp, be = pc[best], emit[best]
    run_end = np.ones((n_spans, n_f), bool)
    run_end[:, :-1] = bp[:, 1:] != bp[:, :-1]
    ends = np.flatnonzero(run_end)
    bi, bf = np.nonzero(be)
    last = ends[np.searchsorted(ends, bi * n_f + bf)] - bi * n_f
    counts = be.sum(axis=1).tolist()
    cl, fl, ll = bp[bi, bf].tolist(), bf.tolist(), last.tolist()
    out = []
    at = 0
    for n_chars in counts:
        out.append((cl[at : at + n_chars], fl[at : at + n_chars], ll[at : at + n_chars]))
        at += n_chars
    return out


def _search(cls: np.ndarray, logp: np.ndarray, blank: np.ndarray, steps: np.ndarray, left: np.ndarray,
            right: np.ndarray, lm: CharLM, s: BeamSettings) -> list[tuple[list[int], list[int], list[int]]]:
    """CTC prefix beam search of ``S`` spans at once (``[S, F, k]`` steps, ``steps`` per span,
    sorted longest first), ``width`` prefixes per span.

    Returns per span the best prefix's classes, the step where it emitted each (on its most
    probable way there), and the last step of each (while the next steps favour it over the blank).
    """
    n_spans, n_f, k = cls.shape
    b = max(1, int(s.width))
    w, bonus, prior = float(s.weight), float(s.bonus), float(s.prior)
    fl = np.zeros((n_spans, b, 3))                         # log p ending in blank, in non-blank; LM + bonus
    fl[:, :, :2] = _NEG
    fl[:, 0, 0] = 0.0                                      # the empty prefix, after a blank
    it = np.zeros((n_spans, b, 5), np.int64)               # context c2, c1; last class (-1: none); length; hash
    it[:, :, 0], it[:, :, 1], it[:, :, 2] = left[:, :1], left[:, 1:], -1
    hist = np.zeros((n_spans, b, n_f, 2), np.int64)        # class and step of each emitted character
    active = np.searchsorted(-steps, -np.arange(n_f), "left")   # spans with more than f steps
    blank = np.where((blank >= np.minimum(_min_log(s), logp.max(axis=2))) | ~(logp > _NEG).any(axis=2), blank, _NEG)
    for f in range(int(steps.max()) if n_spans else 0):
        a = int(active[f])
        ai = np.arange(a)[:, None]
        cf, lf = cls[:a, f], logp[:a, f]
        st, sti = fl[:a], it[:a]
        pb, pnb, sc = st[:, :, 0], st[:, :, 1], st[:, :, 2]
        tot = np.logaddexp(pb, pnb)
        same = cf[:, None, :] == sti[:, :, 2:3]                           # [a, b, k]
        stay_b = tot + blank[:a, f, None]
        stay_nb = pnb + np.where(same, lf[:, None, :], _NEG).max(axis=2)
        ext = np.where(same, pb[:, :, None], tot[:, :, None]) + lf[:, None, :]
        si, bi, ki = np.nonzero(ext > _NEG)
        ext_sc = np.full(ext.shape, _NEG)
        c = cf[si, ki]
        ext_sc[si, bi, ki] = (sc[si, bi] + bonus - w * prior * lm.unigram[c]
                              + w * lm.logp3(sti[si, bi, 0], sti[si, bi, 1], c))
        ext_h = sti[:, :, 4:5].astype(np.uint64) * _HASH + (cf[:, None, :] + 1).astype(np.uint64)
        # An extension that is another kept prefix adds to that prefix instead.
        same_prefix = ((ext_h[:, :, :, None] == sti[:, None, None, :, 4].astype(np.uint64))
                       & (sti[:, None, None, :, 3] == sti[:, :, None, None, 3] + 1)
                       & (tot > _NEG)[:, None, None, :])
        mi, mb, mk, mq = np.nonzero(same_prefix & (ext_sc > _NEG)[:, :, :, None])
        moved = np.zeros((a, b), bool)                    # the prefix's last character now starts here
        if mi.size:
            add = ext[mi, mb, mk]
            moved[mi, mq] = add > stay_nb[mi, mq]
            stay_nb[mi, mq] = np.logaddexp(stay_nb[mi, mq], add)
            ext_sc[mi, mb, mk] = _NEG
        stay_sc = np.logaddexp(stay_b, stay_nb) + sc
        every = np.concatenate([stay_sc, (ext + ext_sc).reshape(a, b * k)], axis=1)
        pick = np.argsort(-every, axis=1, kind="stable")[:, :b]
        is_ext = pick >= b
        e = np.maximum(pick - b, 0)
        parent = np.where(is_ext, e // k, pick)
        ch = cf[ai, e % k]
        new_fl = np.stack([stay_b, stay_nb, sc], axis=2)[ai, parent]
        new_fl[:, :, 0] = np.where(is_ext, _NEG, new_fl[:, :, 0])
        new_fl[:, :, 1] = np.where(is_ext, ext.reshape(a, -1)[ai, e], new_fl[:, :, 1])
        new_fl[:, :, 2] = np.where(is_ext, ext_sc.reshape(a, -1)[ai, e], new_fl[:, :, 2])
        new_it = sti[ai, parent]
        xi, xb = np.nonzero(is_ext)
        ln = new_it[xi, xb, 3]
        hist[:a] = hist[:a][ai, parent]
        yi, yb = np.nonzero(~is_ext & moved[ai, parent])
        hist[yi, yb, new_it[yi, yb, 3] - 1, 1] = f
        hist[xi, xb, ln, 0] = ch[xi, xb]
        hist[xi, xb, ln, 1] = f
        new_it[xi, xb, 0] = new_it[xi, xb, 1]
        new_it[xi, xb, 1] = ch[xi, xb]
        new_it[xi, xb, 2] = ch[xi, xb]
        new_it[xi, xb, 3] = ln + 1
        new_it[xi, xb, 4] = ext_h.reshape(a, -1)[xi, e[xi, xb]].astype(np.int64)
        fl[:a], it[:a] = new_fl, new_it
    final = np.logaddexp(fl[:, :, 0], fl[:, :, 1]) + fl[:, :, 2]
    c2, c1 = it[:, :, 0], it[:, :, 1]
    r1 = np.broadcast_to(right[:, :1], c1.shape)
    r2 = np.broadcast_to(right[:, 1:], c1.shape)
    final += w * lm.logp3(c2, c1, r1)
    final += np.where(r2 >= 0, w * lm.logp3(c1, r1, np.maximum(r2, 0)), 0.0)
    out = []
    for j, q in enumerate(final.argmax(axis=1).tolist()):
        n = int(it[j, q, 3])
        classes, at = hist[j, q, :n, 0].tolist(), hist[j, q, :n, 1].tolist()
        ends = []
        for i, (c, t) in enumerate(zip(classes, at)):
            stop = at[i + 1] if i + 1 < n else int(steps[j])
            e = t
            while e + 1 < stop:
                hit = cls[j, e + 1] == c
                if not hit.any() or logp[j, e + 1][hit].max() < blank[j, e + 1]:
                    break
                e += 1
            ends.append(e)
        out.append((classes, at, ends))
    return out


def _gather(cls: np.ndarray, logp: np.ndarray, blank: np.ndarray, start: np.ndarray,
            length: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps ``[start, start + length)`` of each span as padded ``[S, F, k]``, ``[S, F, k]``, ``[S, F]``."""
    n_f = int(length.max())
    inside = np.arange(n_f) < length[:, None]
    at = np.where(inside, start[:, None] + np.arange(n_f), 0)
    return (np.where(inside[:, :, None], cls[at], 0), np.where(inside[:, :, None], logp[at], _NEG),
            np.where(inside, blank[at], 0.0))


def _chunks(order: np.ndarray, size: np.ndarray, length: np.ndarray, most: int,
            budget: int = 1 << 19) -> list[np.ndarray]:
    """``order`` (longest spans first) cut into runs of at most ``most`` spans whose arrays
    (``size`` rows per span, each as long as the run's first span) stay within ``budget``
    cells, unless one span alone needs more."""
    out, at = [], 0
    while at < order.size:
        rows = np.cumsum(size[order[at : at + most]]) * max(1, int(length[order[at]]))
        take = max(1, int(np.searchsorted(rows, budget, "right")))
        out.append(order[at : at + take])
        at += take
    return out


def beam_apply(items: Sequence[tuple[CtcDecoded, BeamSpans | None]], lm: CharLM,
               settings: BeamSettings | None = None, chunk: int = 256) -> list[CtcDecoded]:
    """Search the unsure spans of many lines at once (``chunk`` spans at a time) and stitch
    each line's readings of its spans into its greedy reading.

    A line whose spans all read as greedily keeps its greedy decoding as it is.
    """
    s = settings or BeamSettings()
    out = [d for d, _ in items]
    lines = [i for i, (_, sp) in enumerate(items) if sp is not None]
    if s.weight <= 0 or not lines:
        return out
    parts = [items[i][1] for i in lines]
    k = max(sp.cls.shape[1] for sp in parts)
    cls = np.concatenate([sp.cls if sp.cls.shape[1] == k else np.pad(sp.cls, ((0, 0), (0, k - sp.cls.shape[1])))
                          for sp in parts])
    logp = np.concatenate([sp.logp if sp.logp.shape[1] == k
                           else np.pad(sp.logp, ((0, 0), (0, k - sp.logp.shape[1])), constant_values=_NEG)
                           for sp in parts])
    blank = np.concatenate([sp.blank for sp in parts])
    frame = np.concatenate([sp.frame for sp in parts])
    offset = np.cumsum([0] + [sp.cls.shape[0] for sp in parts])
    start = np.concatenate([sp.bounds[:-1] + o for sp, o in zip(parts, offset.tolist())])
    length = np.concatenate([np.diff(sp.bounds) for sp in parts])
    left = np.concatenate([sp.left for sp in parts])
    right = np.concatenate([sp.right for sp in parts])
    options = np.maximum((logp > _NEG).sum(axis=1) + (blank >= np.minimum(_min_log(s), logp.max(axis=1))),
                         1).astype(np.float64)
    with np.errstate(over="ignore"):  # a long span's count may overflow to inf: searched, not enumerated
        paths = np.multiply.reduceat(options, start)
    found: list[tuple[list[int], list[int], list[int]]] = [([], [], [])] * start.size
    exact = np.flatnonzero(paths <= s.max_paths)
    long = np.flatnonzero(paths > s.max_paths)
    for which, search in ((exact, False), (long, True)):
        which = which[np.argsort(-length[which], kind="stable")]    # similar lengths together
        for part in _chunks(which, np.full(paths.size, s.width) if search else paths, length, chunk):
            pc, pl, pb = _gather(cls, logp, blank, start[part], length[part])
            got = (_search(pc, pl, pb, length[part], left[part], right[part], lm, s) if search
                   else _enumerate(pc, pl, pb, left[part], right[part], lm, s))
            for j, g in zip(part.tolist(), got):
                found[j] = g
    j = 0
    for i, sp in zip(lines, parts):
        chars = items[i][0].chars
        pieces: list[CtcChar] = []
        at = 0
        changed = False
        for lo, hi in sp.chars.tolist():
            got = found[j]
            pieces += chars[at:lo]
            if [lm.index[c.char] for c in chars[lo:hi]] == got[0]:
                pieces += chars[lo:hi]
            else:
                base = int(start[j])
                for c, a, b in zip(*got):
                    conf = float(np.exp(logp[base + a : base + b + 1][cls[base + a : base + b + 1] == c].max()))
                    pieces.append(CtcChar(lm.charset[c - 1], conf, int(frame[base + a]), int(frame[base + b])))
                changed = True
            at = hi
            j += 1
        if changed:
            pieces += chars[at:]
            conf = line_confidence([c.confidence for c in pieces], np.array([]))
            out[i] = CtcDecoded("".join(c.char for c in pieces), conf, tuple(pieces))
    return out


def lm_beam_decode(probs: np.ndarray, lm: CharLM, settings: BeamSettings | None = None) -> CtcDecoded:
    """Read one line of ``[T, C]`` probabilities (blank = class 0): greedily, then its unsure
    spans again with the LM (see the module docstring)."""
    best, best_p = best_path(probs)
    greedy = decode_best_path(best, best_p, lm.charset)
    spans = beam_spans(probs, greedy, lm, settings, best=best, best_p=best_p)
    return beam_apply([(greedy, spans)], lm, settings)[0]
