import { createApp } from "vue";
import App from "./App.vue";
import { loadCheckout } from "./checkout.js";

loadCheckout();
createApp(App).mount("#app");
