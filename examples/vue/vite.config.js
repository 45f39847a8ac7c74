import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

export default defineConfig({
  plugins: [
    vue({
      // <paydigital-checkout> is a custom element, not a Vue component: Vue passes its
      // bindings as attributes and listens for its events.
      template: { compilerOptions: { isCustomElement: (tag) => tag === "paydigital-checkout" } },
    }),
  ],
  base: "./",
  // `npm run dev` expects the demo proxy (make demo) on :8080.
  server: {
    proxy: { "/checkout": "http://127.0.0.1:8080", "/api": "http://127.0.0.1:8080" },
  },
});
