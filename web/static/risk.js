// The printable register's "print" button; the page prints with Ctrl+P without this file.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute("data-print")) {
      window.print();
    }
  });
})();
