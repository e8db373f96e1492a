#!/usr/bin/env python3
"""Traditional-character version of a relevance set: the queries converted simplified ->
traditional with OpenCC's own tables (STPhrases.txt longest match first, then
STCharacters.txt, first candidate), the documents and judgements unchanged. jianbao folds
with OpenCC's t2s tables, so its folding is checked against the inverse direction.

usage: make_trad.py [--docs] SRC_SET OUT_SET [OPENCC_DICT_DIR]
  OPENCC_DICT_DIR defaults to ferrous-opencc's assets/dictionaries in the cargo registry.
  OUT_SET/seeds is a symlink to SRC_SET/seeds (nothing is copied); with --docs the documents
  are converted too (written to OUT_SET/seeds), as a traditional-character collection is.
  SRC_SET/answers.tsv, if any, is converted with the documents (else copied).
"""
import glob
import os
import sys


def load(path):
    table = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or "\t" not in line:
            continue
        key, values = line.rstrip("\n").split("\t", 1)
        table.setdefault(key, values.split(" ")[0])
    return table


def main():
    docs = "--docs" in sys.argv
    sys.argv = [a for a in sys.argv if a != "--docs"]
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        dict_dir = sys.argv[3]
    else:
        found = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/ferrous-opencc-0.4.0/assets/dictionaries"))
        if not found:
            sys.exit("OpenCC dictionaries not found: pass OPENCC_DICT_DIR")
        dict_dir = found[0]
    phrases = load(f"{dict_dir}/STPhrases.txt")
    chars = load(f"{dict_dir}/STCharacters.txt")
    longest = max(len(k) for k in phrases)

    def convert(text):
        out, i = [], 0
        while i < len(text):
            for n in range(min(longest, len(text) - i), 1, -1):
                if text[i:i + n] in phrases:
                    out.append(phrases[text[i:i + n]])
                    i += n
                    break
            else:
                out.append(chars.get(text[i], text[i]))
                i += 1
        return "".join(out)

    os.makedirs(out, exist_ok=True)
    seeds = os.path.join(out, "seeds")
    if docs:
        os.makedirs(seeds, exist_ok=True)
        src_seeds = os.path.join(src, "seeds")
        for name in os.listdir(src_seeds):
            text = open(os.path.join(src_seeds, name), encoding="utf-8").read()
            head, sep, body = text.partition("\n---\n")
            # The front matter's title is converted; url, dates and the rest stay.
            head = "\n".join(convert(l) if l.startswith("title:") else l for l in head.split("\n"))
            open(os.path.join(seeds, name), "w", encoding="utf-8").write(head + sep + convert(body))
    elif not os.path.exists(seeds):
        os.symlink(os.path.abspath(os.path.join(src, "seeds")), seeds)
    if os.path.exists(f"{src}/answers.tsv"):
        with open(f"{out}/answers.tsv", "w", encoding="utf-8") as w:
            for line in open(f"{src}/answers.tsv", encoding="utf-8"):
                fields = line.rstrip("\n").split("\t")
                w.write("\t".join(fields[:1] + [convert(a) if docs else a for a in fields[1:]]) + "\n")
    with open(f"{out}/queries.tsv", "w", encoding="utf-8") as w:
        for line in open(f"{src}/queries.tsv", encoding="utf-8"):
            if "\t" in line:
                qid, q = line.rstrip("\n").split("\t", 1)
                w.write(f"{qid}\t{convert(q)}\n")
    with open(f"{out}/qrels.tsv", "w", encoding="utf-8") as w:
        w.write(open(f"{src}/qrels.tsv", encoding="utf-8").read())
    changed = sum(1 for a, b in zip(open(f"{src}/queries.tsv", encoding="utf-8"), open(f"{out}/queries.tsv", encoding="utf-8")) if a != b)
    print(f"{out}: {changed} queries changed by the conversion")


if __name__ == "__main__":
    main()
