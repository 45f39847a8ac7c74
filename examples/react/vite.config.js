import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` expects the demo proxy (make demo) on :8080 for the widget and its API;
// the built page takes the proxy from `?proxy=` (the test's sandbox proxy).
export default defineConfig({
  plugins: [react()],
  base: "./",
  server: {
    proxy: { "/checkout": "http://127.0.0.1:8080", "/api": "http://127.0.0.1:8080" },
  },
});
