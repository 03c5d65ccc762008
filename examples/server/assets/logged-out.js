// The page after an admin logs out: whatever brought the browser here, it forgets the
// dashboard's login (kept in sessionStorage by admin.js).
"use strict";

(() => {
  try {
    sessionStorage.removeItem("pochi.admin.v1");
  } catch (_) {
    // Storage is off: nothing was kept.
  }
})();
