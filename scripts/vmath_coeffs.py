#!/usr/bin/env python3
"""scripts/vmath_coeffs.py — derives the polynomial coefficients of core/vmath.h.

Each polynomial is a weighted minimax fit (Remez exchange in 60-digit mpmath
arithmetic) whose coefficients are then rounded to float one at a time, lowest
degree first, refitting the remaining ones after each rounding. Constants that
are kept as a float pair (hi + lo) are marked. Prints every coefficient as a C
hex-float literal and the maximum weighted error of the rounded polynomial.

    pip install mpmath numpy && python3 scripts/vmath_coeffs.py      (~4 minutes)

The output is what core/vmath.h and docs/math.md contain; rerunning it must
reproduce them exactly."""
import mpmath as mp
import numpy as np

mp.mp.dps = 60


def f32(v):
    """v rounded to the nearest float (through double: the 2^-53 double
    rounding cannot move a value that is not within 2^-29 ulp of a tie)."""
    return mp.mpf(float(np.float32(float(v))))


def remez(f, w, basis, a, b, iters=60, grid=3000):
    """Coefficients c minimising max |(sum c_k basis_k(x) - f(x)) w(x)| on [a, b]."""
    n = len(basis)
    a, b = mp.mpf(a), mp.mpf(b)
    # initial reference: Chebyshev nodes, odd ones nudged so none sits on a zero of w
    xs = [a + (b - a) * (1 - mp.cos(mp.pi * (i + mp.mpf(1) / 2) / (n + 1))) / 2 +
          (b - a) * mp.mpf('0.0007') * (i % 2) for i in range(n + 1)]
    gx = [a + (b - a) * (1 - mp.cos(mp.pi * i / (grid - 1))) / 2 for i in range(grid)]
    fg = [f(x) for x in gx]
    wg = [w(x) for x in gx]
    bg = [[bf(x) for bf in basis] for x in gx]
    best = None
    for _ in range(iters):
        A = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for i, x in enumerate(xs):
            for k in range(n):
                A[i, k] = basis[k](x)
            A[i, n] = (-1) ** i / w(x)
            rhs[i] = f(x)
        sol = mp.lu_solve(A, rhs)
        c = [sol[k] for k in range(n)]
        err = [(mp.fsum(c[k] * bg[j][k] for k in range(n)) - fg[j]) * wg[j] for j in range(grid)]
        m = max(abs(e) for e in err)
        if best is None or m < best[0]:
            best = (m, c)
        ext = []
        for j in range(grid):
            e = err[j]
            if e != 0 and (j == 0 or abs(e) >= abs(err[j - 1])) and \
                    (j == grid - 1 or abs(e) >= abs(err[j + 1])):
                ext.append(j)
        alt = []
        for j in ext:
            if alt and (err[alt[-1]] > 0) == (err[j] > 0):
                if abs(err[j]) > abs(err[alt[-1]]):
                    alt[-1] = j
            else:
                alt.append(j)
        while len(alt) > n + 1:
            alt.pop(0 if abs(err[alt[0]]) < abs(err[alt[-1]]) else -1)
        if len(alt) < n + 1:
            break
        xs = [gx[j] for j in alt]
        if m / min(abs(err[j]) for j in alt) < 1 + mp.mpf('1e-9'):
            break
    return best[1]


def fit_float(f, w, basis, a, b):
    """Greedy float rounding, lowest degree first; returns (coefficients, max error)."""
    coeffs, fx = [], f
    for k in range(len(basis)):
        ck = f32(remez(fx, w, basis[k:], a, b)[0])
        coeffs.append(ck)
        fx = (lambda g, c, bk: (lambda x: g(x) - c * bk(x)))(fx, ck, basis[k])
    gx = [mp.mpf(a) + (mp.mpf(b) - mp.mpf(a)) * i / 20000 for i in range(20001)]
    e = max(abs(fx(x) * w(x)) for x in gx)
    return coeffs, e


def hexf(v):
    """C float literal in hex, e.g. -0x1.555556p-2f."""
    s = float(v).hex()  # '-0x1.5555560000000p-2'
    sign = '-' if s[0] == '-' else ''
    s = s.lstrip('-')
    mant, exp = s[2:].split('p')
    mant = mant.rstrip('0').rstrip('.')
    return '%s0x%sp%sf' % (sign, mant, exp)


def pair(v):
    hi = f32(v)
    return hi, f32(v - hi)


def report(name, coeffs, e, note=''):
    print('%s  (max weighted error 2^%.2f)%s' % (name, float(mp.log(e, 2)), note))
    for k, c in enumerate(coeffs):
        print('    [%d] %s' % (k, hexf(c)))


def main():
    # e^h = 1 + h + h^2/2 + h^3 Q(h), |h| <= 0.3466: relative error of e^h
    L = mp.mpf('0.3466')
    q, e = fit_float(lambda h: mp.expm1(h) - h - h * h / 2, lambda h: 1 / mp.exp(h),
                     [(lambda k: (lambda h: h ** (3 + k)))(k) for k in range(5)], -L, L)
    report('exp Q (coefficient k of h^(3+k))', q, e)

    # tanh(x) = x + x^3 P(x^2), 0 <= x <= 0.375: relative error
    p, e = fit_float(lambda x: mp.tanh(x) - x, lambda x: 1 / mp.tanh(x),
                     [(lambda k: (lambda x: x ** (3 + 2 * k)))(k) for k in range(5)],
                     mp.mpf('1e-4'), mp.mpf('0.375'))
    report('tanh P (coefficient k of x^(3+2k))', p, e)

    # erf(x) = x + x H(x^2), 0 <= x <= 0.5: relative error
    hh, e = fit_float(lambda x: mp.erf(x) - x, lambda x: 1 / mp.erf(x),
                      [(lambda k: (lambda x: x ** (1 + 2 * k)))(k) for k in range(6)],
                      mp.mpf('1e-4'), mp.mpf('0.5'))
    report('erf H (coefficient k of x^(2k+1))', hh, e)

    # erf(0.75 + d) = E0 + d C(d), -0.25 <= d <= 0.25: relative error
    a0 = mp.mpf('0.75')
    e0h, e0l = pair(mp.erf(a0))
    cc, e = fit_float(lambda d: mp.erf(a0 + d) - (e0h + e0l), lambda d: 1 / mp.erf(a0 + d),
                      [(lambda k: (lambda d: d ** (1 + k)))(k) for k in range(8)],
                      mp.mpf('-0.25'), mp.mpf('0.25'))
    report('erf C (coefficient k of d^(k+1)), E0 = erf(0.75) = hi + lo', cc, e,
           '\n    E0 hi %s  lo %s' % (hexf(e0h), hexf(e0l)))

    # log(e^(x^2) erfc(x)) = c0 + d L(d), d = x - 2.5, 1 <= x <= 4: absolute error
    xm = mp.mpf('2.5')
    g = lambda x: mp.log(mp.erfc(x) * mp.exp(x * x))
    c0h, c0l = pair(remez(g, lambda x: 1, [(lambda k: (lambda x: (x - xm) ** k))(k)
                                           for k in range(9)], 1, 4)[0])
    ll, e = fit_float(lambda x: g(x) - (c0h + c0l), lambda x: 1,
                      [(lambda k: (lambda x: (x - xm) ** (1 + k)))(k) for k in range(8)], 1, 4)
    report('erf L (coefficient k of d^(k+1)), c0 = hi + lo', ll, e,
           '\n    c0 hi %s  lo %s' % (hexf(c0h), hexf(c0l)))


def reduction_constants():
    """The constants of the argument reductions of log, sin and cos."""
    # pi/2 = C1 + C2 + C3 + C4 + O(2^-103), each the float nearest to the rest
    rest, parts = mp.pi / 2, []
    for _ in range(4):
        parts.append(f32(rest))
        rest -= parts[-1]
    print('pi/2 = C1 + C2 + C3 + C4  (rest %.3g)' % float(rest))
    for k, c in enumerate(parts):
        print('    C%d %s' % (k + 1, hexf(c)))
    print('RN(2/pi) %s' % hexf(f32(2 / mp.pi)))
    # 2/pi in binary: 32-bit words of the fraction bits of weight 2^-1 .. 2^-224
    # (224 bits need more than the default 60 digits)
    with mp.workdps(100):
        v = int(mp.floor(2 / mp.pi * mp.mpf(2) ** 224))
    print('2/pi fraction words:', ' '.join('0x%08x' % ((v >> (32 * (6 - i))) & 0xffffffff)
                                            for i in range(7)))
    # largest reduced argument of Cody-Waite (|x| < 2^17): pi/4 plus the error
    # of n = round(x RN(2/pi)), 2^17 |RN(2/pi) - 2/pi| pi/2
    print('sin/cos kernel bound %.5f' % float(mp.pi / 4 + 2 ** 17 * abs(f32(2 / mp.pi) - 2 / mp.pi)
                                              * mp.pi / 2))


def log_trig():
    # log(1 + f) = f - f^2/2 + f^3 P(f), sqrt(1/2) - 1 <= f <= sqrt(2) - 1: relative error
    p, e = fit_float(lambda t: mp.log1p(t) - t + t * t / 2,
                     lambda t: 1 / mp.log1p(t) if t != 0 else mp.mpf(1),
                     [(lambda k: (lambda t: t ** (3 + k)))(k) for k in range(10)],
                     mp.sqrt(mp.mpf('0.5')) - 1, mp.sqrt(2) - 1)
    report('log P (coefficient k of f^(3+k))', p, e)

    # sin(r) = r + r^3 S(r^2), cos(r) = 1 - r^2/2 + r^4 C(r^2), |r| <= 0.791: relative errors
    r = mp.mpf('0.791')
    sc, e = fit_float(lambda x: mp.sin(x) - x, lambda x: 1 / mp.sin(x),
                      [(lambda k: (lambda x: x ** (3 + 2 * k)))(k) for k in range(4)],
                      mp.mpf('1e-4'), r)
    report('sin S (coefficient k of r^(3+2k))', sc, e)
    cc, e = fit_float(lambda x: mp.cos(x) - 1 + x * x / 2, lambda x: 1 / mp.cos(x),
                      [(lambda k: (lambda x: x ** (4 + 2 * k)))(k) for k in range(3)],
                      mp.mpf('1e-4'), r)
    report('cos C (coefficient k of r^(4+2k))', cc, e)


if __name__ == '__main__':
    main()
    reduction_constants()
    log_trig()
