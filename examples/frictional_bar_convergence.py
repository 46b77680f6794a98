"""The FE bar on a frictional foundation against its closed form (docs/friction.md).

    python examples/frictional_bar_convergence.py

Bar L = EA = 1, k_t = 100, tau_y = 1, pulled to Delta = 0.02 (partial slip); structured
meshes h = 1/n. Prints the lumped L2 errors of displacement and slip, the force error and the
least-squares slopes over the three finest levels.
"""

import numpy as np

from fem_reg.friction import FrictionalBar, bar_solution
from fem_reg.mesh import interval
from fem_reg.study import loglog_slope

LEVELS = (20, 40, 80, 160, 320, 640)


def main():
    for gamma in (0.0, 0.01, 0.1):
        ref = bar_solution(0.02, length=1.0, EA=1.0, k_t=100.0, tau_y=1.0, gamma=gamma)
        hs, eu, es, ef = [], [], [], []
        print(f"gamma = {gamma:g}: closed form F = {ref.force:.8f}, slip zone "
              f"{ref.slip_length:.5f}")
        print("| n | L2 error u | L2 error s | force error |\n|---|---|---|---|")
        for n in LEVELS:
            problem = FrictionalBar(interval(1.0 / n), EA=1.0, k_t=100.0, mu_s=1.0,
                                    mu_d=1.0, pressure=1.0, gamma=gamma,
                                    displacement={"right": 0.02}, steps=1)
            result = problem.solve()
            x, m = problem.mesh.p[0], problem.weights
            hs.append(1.0 / n)
            eu.append(np.sqrt(np.sum(m * (result.point_data["displacement"]
                                          - ref.displacement(x)) ** 2)))
            es.append(np.sqrt(np.sum(m * (result.point_data["slip"] - ref.slip(x)) ** 2)))
            ef.append(abs(result.qoi["force"] - ref.force))
            print(f"| {n} | {eu[-1]:.3e} | {es[-1]:.3e} | {ef[-1]:.3e} |")
        print(f"slopes (3 finest): u {loglog_slope(hs, eu, 3):.2f}, s "
              f"{loglog_slope(hs, es, 3):.2f}, force {loglog_slope(hs, ef, 3):.2f}\n")


if __name__ == "__main__":
    main()
