"""The pipelines the watcher tests and benchmarks/bench_watch.py watch: importable without a
test module's fixtures."""

PIPELINE = """
pipeline: inbox
params:
  root: {type: string}
steps:
  orders:
    shell: "cat {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/in/orders.csv"}
    outputs: {o: "{root}/out/orders.txt"}
  prices:
    shell: "cat {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/in/prices.csv"}
    outputs: {o: "{root}/out/prices.txt"}
"""

# A step in Python that reads and writes its targets itself (an object store, an HTTP input):
# write it as copying.py beside the pipeline and run it as ``copying:copy``.
COPYING = (
    "def copy(inputs, outputs):\n"
    "    with inputs['raw'].open('r') as source, outputs['o'].open('w') as copied:\n"
    "        copied.write(source.read())\n"
)
