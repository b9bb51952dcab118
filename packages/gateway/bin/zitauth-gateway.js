#!/usr/bin/env node
// The `zitauth-gateway` command. A plain JavaScript file that exists before any build, so
// npm can link it at install time; the command itself is compiled from src/bin.
import('../dist/bin/zitauth-gateway.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('zitauth-gateway')) {
    console.error('zitauth-gateway: not built yet; run `npm run build` first');
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
