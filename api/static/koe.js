// koe pages: clicking an utterance, a tag or a timeline segment plays the recording from there.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var bubbles = Array.prototype.slice.call(document.querySelectorAll(".chat .bubble"));

  function seek(seconds, target) {
    if (!player || isNaN(seconds)) return;
    player.currentTime = Math.max(0, seconds);
    var playing = player.play();
    if (playing && playing.catch) playing.catch(function () {});
    if (target) {
      var el = document.getElementById(target);
      if (el) el.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest(".seek") : null;
    if (!el) return;
    seek(parseFloat(el.getAttribute("data-start")), el.getAttribute("data-target"));
  });

  // SVG rects are not focusable buttons: make them reachable by keyboard.
  Array.prototype.forEach.call(document.querySelectorAll("rect.seek"), function (rect) {
    rect.setAttribute("tabindex", "0");
    rect.setAttribute("role", "button");
    rect.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        seek(parseFloat(rect.getAttribute("data-start")));
      }
    });
  });

  if (player) {
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime;
      bubbles.forEach(function (b) {
        var start = parseFloat(b.querySelector(".seek").getAttribute("data-start"));
        var next = b.nextElementSibling;
        var end = next ? parseFloat(next.querySelector(".seek").getAttribute("data-start")) : Infinity;
        b.classList.toggle("playing", now >= start && now < end);
      });
    });
    // A link such as /ui/calls/ID#t=12.5 (from quotes and evidence) starts at that moment.
    var match = /#t=([0-9.]+)/.exec(window.location.hash);
    if (match) {
      player.addEventListener("loadedmetadata", function () { player.currentTime = parseFloat(match[1]); }, { once: true });
    }
  }
})();
