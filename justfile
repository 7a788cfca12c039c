# Sparky's command centre: what people do with Sparky, as recipes. `just --list` shows them.
# `just` itself is installed by scripts/setup into .tools/bin (PyPI wheel rust-just); run it as
# `.tools/bin/just …`, or put .tools/bin on PATH. The README's two commands stay `npm start` / `npm test`;
# every recipe here is a short name for a command documented in the README or docs/operations.md.

set positional-arguments := false

sparky := "node bin/sparky.js"
tools := justfile_directory() / ".tools/bin"

# List the recipes
default:
    @{{ just_executable() }} --list --unsorted

# Install npm packages, the Temporal CLI, just and the Python venv (idempotent)
[group('setup')]
setup:
    bash scripts/setup

# The embedded stack + a live run of the DGX-Pixels example (or of PLAN); extra flags go to `sparky dev`
[group('run')]
start plan="examples/dgx-pixels.plan.yaml" *flags: setup
    {{ sparky }} dev --run {{ quote(plan) }} {{ flags }}

# The embedded stack without a run (Web UI on http://127.0.0.1:8233)
[group('run')]
dev: setup
    {{ sparky }} dev

# Start a run of PLAN and follow it live (flags: --auto-approve A,B --id ID)
[group('run')]
run plan *flags:
    {{ sparky }} run {{ quote(plan) }} --wait {{ flags }}

# Every test against the real parts (what `npm test` runs)
[group('test')]
test: setup
    npx tsx scripts/test.ts

# Only the tests whose path contains one of the comma-separated FILTER substrings (no static checks)
[group('test')]
test-only filter:
    npx tsx scripts/test.ts --only {{ quote(filter) }}

# Fault injection: server restarts, SIGKILLed workers and inference servers, fuzzing
[group('test')]
test-faults: setup
    npm run --silent test:faults

# Benchmarks against bare Temporal and raw ZeroMQ (writes bench/results/)
[group('test')]
bench: setup
    npm run --silent bench

# Type check (tsc --noEmit)
[group('check')]
typecheck:
    npx tsc --noEmit -p .

# The workflow determinism lint (eslint)
[group('check')]
lint:
    npx eslint --max-warnings 0 .

# Type check and lint
[group('check')]
check: typecheck lint

# Regenerate plan/plan.schema.json from plan/schema.ts
[group('check')]
schema:
    npx tsx scripts/gen-json-schema.ts

# Every problem of PLAN as file:line:col (justfile recipes of `just` steps included)
[group('plan')]
validate plan:
    {{ sparky }} validate {{ quote(plan) }}

# Phases, domains, workstreams, gates and the critical path of PLAN (flags: --json, --mermaid)
[group('plan')]
plan plan *flags:
    {{ sparky }} plan {{ quote(plan) }} {{ flags }}

# Validate every example plan
[group('plan')]
validate-examples:
    for f in examples/*.plan.yaml examples/*.plan.json; do {{ sparky }} validate "$f" || exit 1; done

# Status of RUN (workflow id, short run id or `last`; flags: --watch, --json)
[group('operate')]
status run="last" *flags:
    {{ sparky }} status {{ quote(run) }} {{ flags }}

# Approve GATE of RUN as NAME (COMMENT optional)
[group('operate')]
approve run gate name comment="":
    {{ sparky }} approve {{ quote(run) }} {{ quote(gate) }} --as {{ quote(name) }} {{ if comment == "" { "" } else { "--comment " + quote(comment) } }}

# Reject GATE of RUN as NAME, with REASON
[group('operate')]
reject run gate name reason:
    {{ sparky }} reject {{ quote(run) }} {{ quote(gate) }} --as {{ quote(name) }} --reason {{ quote(reason) }}

# Run a step in attention again, after the fix: RUN WORKSTREAM/STEP NAME (COMMENT optional)
[group('operate')]
retry run step name comment="":
    {{ sparky }} retry {{ quote(run) }} {{ quote(step) }} --as {{ quote(name) }} {{ if comment == "" { "" } else { "--comment " + quote(comment) } }}

# Skip a step in attention: RUN WORKSTREAM/STEP NAME REASON
[group('operate')]
skip run step name reason:
    {{ sparky }} skip {{ quote(run) }} {{ quote(step) }} --as {{ quote(name) }} --reason {{ quote(reason) }}

# Run a gate's failed checks (or its conflicting merge) again, after the fix
[group('operate')]
recheck run gate name:
    {{ sparky }} recheck {{ quote(run) }} {{ quote(gate) }} --as {{ quote(name) }}

# End RUN early (onAbort says what is undone)
[group('operate')]
abort run name reason:
    {{ sparky }} abort {{ quote(run) }} --as {{ quote(name) }} --reason {{ quote(reason) }}

# Give a waiting RUN a corrected PLAN
[group('operate')]
revise run plan name:
    {{ sparky }} revise {{ quote(run) }} {{ quote(plan) }} --as {{ quote(name) }}

# Hold RUN's new steps (running ones finish)
[group('operate')]
pause run="last":
    {{ sparky }} pause {{ quote(run) }}

# Let a paused RUN continue
[group('operate')]
resume run="last":
    {{ sparky }} resume {{ quote(run) }}

# Cancel RUN (its compensations run)
[group('operate')]
cancel run="last":
    {{ sparky }} cancel {{ quote(run) }}

# A step's log: RUN and WORKSTREAM/STEP (flags: --follow)
[group('operate')]
logs run step *flags:
    {{ sparky }} logs {{ quote(run) }} {{ quote(step) }} {{ flags }}

# RUN's event history as JSON (for replay tests)
[group('operate')]
history run="last":
    {{ sparky }} history {{ quote(run) }}

# The Temporal CLI against the same server, e.g. `just temporal workflow list`
[group('operate')]
temporal *args:
    {{ tools }}/temporal {{ args }}

# Check docker-compose.yml (docker compose, or docker-compose)
[group('deploy')]
compose-config:
    if docker compose version >/dev/null 2>&1; then docker compose -f docker-compose.yml config -q; else docker-compose -f docker-compose.yml config -q; fi
    @echo "docker-compose.yml: ok"

# Bring the production-like deployment up (docker compose up -d)
[group('deploy')]
compose-up:
    docker compose up -d

# The CPU worker on its own (task queue sparky)
[group('deploy')]
worker-cpu:
    npx tsx workers/cpu.ts

# The GPU workers on their own (one inference server and pinned queue per GPU)
[group('deploy')]
worker-gpu:
    npx tsx workers/gpu.ts
