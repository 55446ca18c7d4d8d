# One command for each job. The virtual environment is made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo desk test lint bench template render clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,addin,desk,frames]'
	touch $@

# Extract the bundled 济南 documents, fill their ledgers, validate them and consolidate the two sample districts,
# into out/. --regions names them: by default a rollup expects every district the unit directory lists for 济南.
demo: $(VENV)/.installed
	@mkdir -p $(OUT)
	@for f in workbooks/samples/*.txt; do \
	  name=$$(basename "$$f" .txt); \
	  $(BIN)/xltools extract --json "$$f" > "$(OUT)/$$name.json" || exit $$?; \
	  ledger="$(OUT)/$${name%_*}_工作台账.xlsx"; \
	  $(BIN)/xltools fill "$$f" -o "$$ledger" || [ $$? -eq 1 ] || exit 2; \
	  $(BIN)/xltools validate "$$ledger" -o "$${ledger%.xlsx}_标注.xlsx" || [ $$? -eq 1 ] || exit 2; \
	done
	@mkdir -p $(OUT)/inbox && cp $(OUT)/市中区_工作台账.xlsx $(OUT)/章丘区_工作台账.xlsx $(OUT)/inbox/
	$(BIN)/xltools consolidate workbooks/samples/济南市_工作台账.txt $(OUT)/inbox -o $(OUT)/济南市_汇总.xlsx \
	  --regions 市中区,章丘区 --archive $(OUT)/archive || [ $$? -eq 1 ] || exit 2
	@echo "Outputs in $(OUT)/:"; ls -1 $(OUT)

# The desk on the demo's archive (its two districts already handed in): http://127.0.0.1:8765/
desk: demo
	$(BIN)/xltools serve workbooks/samples/济南市_工作台账.txt --archive $(OUT)/archive --regions 市中区,章丘区,历城区 --print-codes
	$(BIN)/xltools serve workbooks/samples/济南市_工作台账.txt --archive $(OUT)/archive --regions 市中区,章丘区,历城区

test: $(VENV)/.installed
	$(BIN)/ruff check xltools tests benchmarks
	$(BIN)/python -m pytest -q

# The code is laid out by hand (line length 110), not by ruff's formatter: lint is ruff's checks.
lint: $(VENV)/.installed
	$(BIN)/ruff check xltools tests benchmarks

# Speed against the plain approach, measured in the same run (see benchmarks/RESULTS.md).
bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_units.py
	$(BIN)/python benchmarks/bench_targets.py
	$(BIN)/python benchmarks/bench_writer.py
	$(BIN)/python benchmarks/bench_distribute.py
	$(BIN)/python benchmarks/bench_fill.py
	$(BIN)/python benchmarks/bench_consolidate.py --corpus both --sizes 300,3000 --skip-slow
	$(BIN)/python benchmarks/bench_floor.py --sizes 300,3000

# Regenerate the ledger template from code (overwrites workbooks/ledger_template.xlsx).
template: $(VENV)/.installed
	$(BIN)/python -m xltools.template workbooks/ledger_template.xlsx

# Print the demo outputs with LibreOffice: pages per sheet, the smallest text as printed, and PNG pages to look at.
render: demo
	$(BIN)/python tests/render.py $(OUT)/*.xlsx --png $(OUT)/render
	@ls -1 $(OUT)/render | head

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
