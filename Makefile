# The README's two commands: `make demo` and `make test`, as root on Debian/Ubuntu.
# Both install what is missing (system packages with apt, Python packages in .venv).

VENV      ?= .venv
PY        := $(VENV)/bin/python
NETLAB    := $(VENV)/bin/netlab
# what netlab itself needs on the machine (graphviz: `dot` lays out `netlab graph` pictures)
SYSTEM    := iproute2 iptables nftables conntrack procps iputils-ping graphviz
# what the test suite adds: a real Docker 20.10 to compare with, busybox for its image,
# tshark to read the pcapng files of traces, and chromium to lay out the HTML pictures
TEST_SYS  := docker.io busybox-static tshark chromium
# most integration tests wait on processes, engines and timeouts rather than the CPU: four
# workers on this 2-core machine took the suite from 11.5 to 10 minutes (pytest --durations);
# at 2404 tests, six took it to 11:06 (four: 12:46, beside another engine's run)
PYTEST    ?= -n 6

.PHONY: demo test unit lint bench system test-system engines clean

demo: system $(VENV)/.installed
	$(NETLAB) demo

# engines: the real Docker 26.1 and 28.5 the conformance tests compare with (20.10 is docker.io)
test: system test-system engines $(VENV)/.installed-test lint
	NETLAB_ENGINES=$(ENGINES) $(PY) -m pytest $(PYTEST) -q tests

# ruff over the tree, mypy over the pure layers (configuration in pyproject.toml)
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check netlab tests bench
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-test
	$(PY) -m pytest -q tests/unit

# `make bench`: every benchmark of bench/run.py, written into docs/benchmarks.md; pass
# options with BENCH, e.g. `make bench BENCH=--quick`. Mininet (a Linux-bridge switch) and
# Docker are the comparisons; apt-ensure installs them without starting any service.
BENCH_SYS := mininet bridge-utils
BENCH     ?=

bench: system test-system $(VENV)/.installed-test
	@bash scripts/apt-ensure $(BENCH_SYS)
	$(PY) bench/run.py --report docs/benchmarks.md $(BENCH)

# `make engines`: Debian's docker.io 26.1 (trixie) and 28.5 (sid), their containerd, runc and
# docker-init, and docker-compose 2.40 (sid), fetched with `apt-get download` through a private
# apt configuration derived from the machine's sources and unpacked with `dpkg -x` under
# $(ENGINES) (manifest.json there) -- nothing installed system-wide. Cached: a rerun does nothing.
ENGINES   ?= /var/cache/netlab/engines

engines:
	@python3 scripts/fetch-engines --cache $(ENGINES)

system:
	@bash scripts/apt-ensure $(SYSTEM)

test-system:
	@bash scripts/apt-ensure $(TEST_SYS)

$(VENV)/.installed: pyproject.toml
	@python3 -c "import venv, ensurepip" 2>/dev/null || bash scripts/apt-ensure python3-venv
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
