import type { PairedComparison } from '../../../shared/contract';

/**
 * McNemar's test on the discordant pairs b (A right, B wrong) and c (A wrong, B right). Below 25 discordant pairs it
 * is the exact two-sided binomial test (p = min(1, 2·P[X ≤ min(b, c)]), X ~ Bin(b + c, ½)); from 25 on, the
 * chi-square statistic with Edwards' continuity correction (|b − c| − 1)² / (b + c) on 1 degree of freedom.
 * With no discordant pair there is nothing to test: method 'none', p null.
 */
export function mcnemar(b: number, c: number): Pick<PairedComparison, 'method' | 'statistic' | 'pValue'> {
  const n = b + c;
  if (n === 0) return { method: 'none', statistic: null, pValue: null };
  if (n < 25) {
    const k = Math.min(b, c);
    let tail = 0;
    for (let i = 0; i <= k; i++) tail += binomialCoefficient(n, i);
    return { method: 'exact-binomial', statistic: k, pValue: Math.min(1, (2 * tail) / 2 ** n) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { method: 'chi-square-cc', statistic, pValue: chiSquare1Survival(statistic) };
}

function binomialCoefficient(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

/** P[χ²₁ ≥ x] = erfc(√(x/2)). */
export function chiSquare1Survival(x: number): number {
  if (x <= 0) return 1;
  return erfc(Math.sqrt(x / 2));
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
