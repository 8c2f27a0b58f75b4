# mutualaid: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
# Leaflet for the results map: from the npm registry at install time, into var/ (git-ignored).
LEAFLET_VERSION := 1.9.4
LEAFLET := var/npm/.installed-leaflet-$(LEAFLET_VERSION)
# The browser tests (tests/e2e): axe-core from the npm registry, into var/npm as well, and
# Debian's chromium (Playwright never downloads a browser).
AXE_VERSION := 4.14.1
AXE := var/npm/.installed-axe-core-$(AXE_VERSION)

# The Spanish interface (mutualaid/locale): each django.po compiled to its .mo, which is
# never committed. GNU msgfmt when installed (it also checks the %(name)s placeholders);
# otherwise mutualaid.lib.po, in pure Python, so a machine without gettext still works.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard mutualaid/locale/*/LC_MESSAGES/django.po))

.PHONY: setup run test bench lint clean chromium messages audit

setup: $(STAMP) $(LEAFLET) $(AXE) chromium $(MO_FILES)

%.mo: %.po | $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then \
	  msgfmt --check-format -o $@ $< && echo "compiled $@ (msgfmt)"; \
	else $(BIN)/python -m mutualaid.lib.po compile $<; fi

# After changing interface text: collect the messages into the .po files, then translate
# every new or fuzzy entry (tests/test_i18n.py fails until they are all translated).
messages: $(STAMP)
	$(BIN)/mutualaid makemessages --all --no-wrap --ignore=var --ignore=tests --ignore=bench --ignore=build

$(LEAFLET):
	@command -v npm >/dev/null 2>&1 || { echo "need npm (Node.js) to install Leaflet for the map"; exit 1; }
	npm install --prefix var/npm --no-audit --no-fund --loglevel=error --save-exact leaflet@$(LEAFLET_VERSION)
	test -f var/npm/node_modules/leaflet/dist/leaflet.js
	rm -f var/npm/.installed-leaflet-*
	touch $(LEAFLET)

$(AXE):
	@command -v npm >/dev/null 2>&1 || { echo "need npm (Node.js) to install axe-core for the tests"; exit 1; }
	npm install --prefix var/npm --no-audit --no-fund --loglevel=error --save-exact axe-core@$(AXE_VERSION)
	test -f var/npm/node_modules/axe-core/axe.min.js
	rm -f var/npm/.installed-axe-core-*
	touch $(AXE)

# Installed only when missing, and only as root; otherwise the e2e tests fail saying so.
chromium:
	@test -x /usr/bin/chromium && exit 0; \
	if [ "$$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "the browser tests (tests/e2e) need Debian's chromium (as root: apt-get install chromium)"; \
	  exit 0; fi; \
	echo "installing chromium for the browser tests (tests/e2e)"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	@# WeasyPrint (the printable lists) needs Pango and a font from the system; HarfBuzz's
	@# subsetter makes its PDFs faster. Installed only when missing, and only as root.
	@export PATH="$$PATH:/sbin:/usr/sbin"; missing=""; \
	if ! command -v ldconfig >/dev/null 2>&1; then echo "no ldconfig: not checking Pango"; exit 0; fi; \
	for lib in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
	           libharfbuzz-subset.so.0:libharfbuzz-subset0; do \
	  ldconfig -p | grep -q "$${lib%%:*} " || missing="$$missing $${lib##*:}"; \
	done; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "PDF output needs:$$missing (as root: apt-get install$$missing)"; exit 1; fi; \
	echo "installing for PDF output:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: setup
	$(BIN)/mutualaid migrate --noinput
	$(BIN)/mutualaid demo --if-empty
	$(BIN)/mutualaid serve --host $(HOST) --port $(PORT)

# DATABASE_URL picks the database (unset: SQLite); .ci/run runs this on SQLite and PostgreSQL.
# -rs lists why tests skipped; PYTEST_ARGS narrows a run (make test PYTEST_ARGS=tests/lib).
# Two xdist workers cost ~40% more CPU (each imports, collects and migrates its own test
# database); on CI's two idle cores that should still mean ~15-25% less wall time (from
# per-worker CPU time), but on a machine already busy they are slower than one process
# (measured): there, make test PYTEST_WORKERS=0.
PYTEST_WORKERS ?= 2
test: setup
	$(BIN)/ruff check mutualaid tests $(wildcard bench)
	$(BIN)/mutualaid check
	$(BIN)/mutualaid makemigrations --check --dry-run
	$(BIN)/pytest -n $(PYTEST_WORKERS) -rs $(PYTEST_ARGS)

# Every benchmark (bench/run.py): JSON in bench/out/, tables in docs/performance.md.
# BENCH_QUICK=1 make bench: small sizes, a smoke run that leaves the docs alone.
bench: setup
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python bench/run.py

# Known vulnerabilities in the pinned environment (pip-audit; mutualaid/lib/dependency_audit.py).
# Fails on any; skips, saying so, when no vulnerability service answers (offline CI).
audit: setup
	$(BIN)/python -m mutualaid.lib.dependency_audit

lint: setup
	$(BIN)/ruff check mutualaid tests bench
	$(BIN)/ruff format --check mutualaid tests bench

clean:
	rm -rf $(VENV) var/*.sqlite3* var/npm
