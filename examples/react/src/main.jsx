import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.jsx";

// StrictMode: in development React mounts, unmounts and mounts every effect again at once.
// The widget must still make one payment per order.
createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
