# Thin wrappers over ./dev, for those who type make.
.PHONY: setup demo test bench clean
setup demo test bench:
	./dev $@
clean:
	rm -rf .venv out
