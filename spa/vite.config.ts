// The console's build: hashed assets under dist/assets (pulsed serves them with a year's cache; index.html
// is no-cache), no inline script or style (pulsed's CSP has neither 'unsafe-inline' nor a nonce).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // Inlined assets would be data: URLs, which the CSP's default-src 'self' refuses.
    assetsInlineLimit: 0,
    // Chromium, Firefox and Safari preload modules natively; the polyfill would be an inline script.
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
});
