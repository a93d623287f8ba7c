// Rectangular section properties, shared by the example sheets.

export interface RectangularSection {
  /** Width, mm. */
  b: number;
  /** Depth, mm. */
  h: number;
}

/** Elastic section modulus, mm³. */
export function sectionModulus({ b, h }: RectangularSection): number {
  return (b * h * h) / 6;
}

/** Second moment of area, mm⁴. */
export function secondMoment({ b, h }: RectangularSection): number {
  return (b * h ** 3) / 12;
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
