#!/bin/sh
# Creates the agent example's project, once: DIR/repo, a tiny Python package (textkit) with a test
# suite and one spec per feature for the agents to implement. Run by the plan's first step; a later
# run finds it and leaves it as it is (each run works on its own branches).
set -eu
dir=${1:?usage: init-repo.sh DIR}
mkdir -p "$dir"
cd "$dir"
if [ -d repo/.git ]; then echo "repository exists: $PWD/repo"; exit 0; fi
rm -rf repo.partial
git init --quiet --initial-branch=main repo.partial
cd repo.partial
mkdir -p textkit tests specs
printf '"""textkit: small text helpers, written by coding agents under Sparky."""\n' > textkit/__init__.py
printf '__pycache__/\n' > .gitignore
cat > specs/slugify.md <<'SPEC'
# Feature: slugify
Add `textkit/slugify.py` with `slugify(text: str) -> str`: lower case, every run of characters that
are not letters or digits becomes one "-", no "-" at either end. `slugify("Hello, World!") == "hello-world"`.
Add `tests/test_slugify.py` (unittest) covering that example, an empty string and leading/trailing spaces.
SPEC
cat > specs/wordcount.md <<'SPEC'
# Feature: wordcount
Add `textkit/wordcount.py` with `wordcount(text: str) -> dict[str, int]`: words are runs of letters
(case-insensitive, lower-cased in the result). `wordcount("a b A") == {"a": 2, "b": 1}`.
Add `tests/test_wordcount.py` (unittest) covering that example and an empty string.
SPEC
: > tests/__init__.py
git add .
git -c user.name=Sparky -c user.email=sparky@localhost commit --quiet -m "textkit: the empty package and the two feature specs"
cd ..
mv repo.partial repo
echo "created $PWD/repo"
