import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { OpenAccess } from '@orderflow/platform';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';

/**
 * The page holds no data and no secret: everything it shows it fetches with the token the operator types in, so it
 * is served without a credential. Its headers let the browser run only this page's own script and style, load
 * nothing from elsewhere, and never frame it.
 */
export const CONSOLE_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // A new version is seen on the next load; the page is small.
  'cache-control': 'no-cache',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Beside the compiled module: `nest build` copies `public/` there (nest-cli.json, assets). */
function asset(file: string, type: string): Asset {
  return { body: readFileSync(new URL(`./public/${file}`, import.meta.url)), type };
}

/** `GET /console`: the operator console, a static page with one script and one style sheet. */
@ApiExcludeController()
@OpenAccess()
@Controller('console')
export class ConsolePageController {
  private readonly page = asset('index.html', 'text/html; charset=utf-8');
  private readonly script = asset('console.js', 'text/javascript; charset=utf-8');
  private readonly style = asset('console.css', 'text/css; charset=utf-8');

  @Get()
  index(@Res() res: Response): void {
    send(res, this.page);
  }

  @Get('console.js')
  scriptFile(@Res() res: Response): void {
    send(res, this.script);
  }

  @Get('console.css')
  styleFile(@Res() res: Response): void {
    send(res, this.style);
  }
}

function send(res: Response, { body, type }: Asset): void {
  res.set(CONSOLE_PAGE_HEADERS).type(type).send(body);
}
