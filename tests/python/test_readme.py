#!/usr/bin/python3
"""README's first scenario prints what README says it prints.

README.md shows a scenario (the first ```yaml block) and an excerpt of the table `shortfall run`
prints for it, as "the numbers are this version's, on this version's world". This test runs that
scenario on the shipped default world and checks every row of the excerpt against the run's own
table, so a change to the model or to the world that moves those numbers cannot leave README
telling a planner something the program no longer says. It checks the documentation, not the
model: the model's correctness is the business of the other tests.
Args: <shortfall binary> <source dir>."""
import os
import re
import sys
import tempfile

from harness import Checks, run


def readme_blocks(src):
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^```yaml\n(.*?)^```\n", text, re.S | re.M)
    scenario = m.group(1)
    # The excerpt: the first plain block after the scenario that holds the table's header.
    blocks = re.findall(r"^```\n(.*?)^```$", text[m.end():], re.S | re.M)
    table = next(b for b in blocks if "output lost" in b and "recovery" in b)
    rows = [line for line in table.splitlines() if re.match(r"\s+[A-Z]{3}\s+\w", line)]
    return scenario, rows


def main():
    binary, src = sys.argv[1], os.path.abspath(sys.argv[2])
    checks = Checks()
    scenario, rows = readme_blocks(src)
    world = os.path.join(src, "scenarios", "worlds", "critical-materials.yaml")

    def excerpt_rows_are_the_runs():
        assert len(rows) >= 3, rows
        assert "world: worlds/critical-materials.yaml" in scenario, scenario
        with tempfile.TemporaryDirectory(prefix="shortfall-readme-") as tmp:
            path = os.path.join(tmp, "my-graphite.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(scenario.replace("world: worlds/critical-materials.yaml", "world: " + world))
            out = run(binary, ["run", path, "--out", os.path.join(tmp, "out.h5"), "--top", "1000"])
        printed = {tuple(line.split()[:2]): line.split() for line in out.splitlines()
                   if re.match(r"\s+[A-Z]{3}\s+\w", line)}
        for row in rows:
            cells = row.split()
            assert tuple(cells[:2]) in printed, f"README row not printed by the run: {row}"
            assert printed[tuple(cells[:2])] == cells, (
                f"README says:  {' '.join(cells)}\nthe run says: {' '.join(printed[tuple(cells[:2])])}")

    checks.check("README's first-scenario excerpt equals the run's table", excerpt_rows_are_the_runs)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
