import sharp from 'sharp';
import * as vega from 'vega';
import { compile } from 'vega-lite';

/** Render a Vega-Lite spec to SVG text (headless: no canvas needed). */
export async function specToSvg(spec: Record<string, unknown>): Promise<string> {
  const vg = compile(spec as any).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise SVG text to PNG at `density` DPI (144 = 2x). */
export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}
