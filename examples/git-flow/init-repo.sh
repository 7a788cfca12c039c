#!/bin/sh
# Creates the git-flow example's repository, once: DIR/origin.git (a bare repository standing in for a
# remote) and DIR/repo (a clone of it with a first commit on main). Run by the plan's first step; a
# later run finds both and leaves them as they are (each run works on its own branches).
set -eu
dir=${1:?usage: init-repo.sh DIR}
mkdir -p "$dir"
cd "$dir"
if [ -d repo/.git ]; then echo "repository exists: $PWD/repo"; exit 0; fi
rm -rf origin.git repo.partial
git init --quiet --bare --initial-branch=main origin.git
git clone --quiet origin.git repo.partial 2>/dev/null
cd repo.partial
git checkout --quiet -B main
printf '# Demo project\n' > README.md
printf 'Changes by run, newest first.\n' > CHANGELOG.md
git add README.md CHANGELOG.md
git -c user.name=Sparky -c user.email=sparky@localhost commit --quiet -m "initial commit"
git push --quiet origin main
cd ..
mv repo.partial repo
echo "created $PWD/repo (remote: $PWD/origin.git)"
