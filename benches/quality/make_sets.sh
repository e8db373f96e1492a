#!/usr/bin/env bash
# Builds the relevance sets of the quality bench under OUT (default /tmp/qsets). Corpora are
# linked, not copied (cmrc-trial-x is the shared recipe, which copies into OUT).
#   benches/quality/make_sets.sh /tmp/qsets
#   cargo bench --bench quality -- run /tmp/qsets/*
# Tuned on: cmrc-trial, cmrc-trial-x, cmrc-trial-x-trad, titles-even, ids-wechat, names-xwlb,
# compounds-wiki (ranking and absent terms); cmrc-trial (excerpts).
# Held out of tuning: titles-odd (the other half of the news titles), wechat, compounds-join,
# cmrc-trial-trad and questions-xwlb (excerpts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=$(cd "$here/../../../shared" && pwd)
out=${1:-/tmp/qsets}
mkdir -p "$out"
bench() { (cd "$here/../.." && cargo bench --bench quality -- "$@"); }

mkdir -p "$out/cmrc-trial"
ln -sfn "$shared/eval/cmrc-trial/seeds" "$out/cmrc-trial/seeds"
cp "$shared/eval/cmrc-trial/queries.tsv" "$shared/eval/cmrc-trial/qrels.tsv" "$shared/eval/cmrc-trial/answers.tsv" "$out/cmrc-trial/"
[ -d "$out/cmrc-trial-x/seeds" ] || "$shared/eval/make_distractor_set.sh" "$out/cmrc-trial-x"
cp "$shared/eval/cmrc-trial/answers.tsv" "$out/cmrc-trial-x/"
python3 "$here/make_trad.py" "$out/cmrc-trial-x" "$out/cmrc-trial-x-trad"
python3 "$here/make_trad.py" --docs "$out/cmrc-trial" "$out/cmrc-trial-trad"
bench gen-titles "$shared/corpus/xwlb" "$out/titles-even" 300 0
bench gen-titles "$shared/corpus/xwlb" "$out/titles-odd" 300 1
bench gen-wechat "$shared/corpus/wechat" "$out/wechat" 200
bench gen-ids "$shared/corpus/wechat" "$out/ids-wechat" 50
bench gen-names "$shared/corpus/xwlb" "$out/names-xwlb" 50
bench gen-compounds "$shared/corpus/xwlb" "$shared/eval/cmrc-trial/seeds" "$out/compounds-wiki" 50
bench gen-compounds "$shared/corpus/xwlb" join "$out/compounds-join" 50
bench gen-questions "$shared/corpus/xwlb" "$out/questions-xwlb" 300
