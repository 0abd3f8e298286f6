/* Enhancements for the dashboard; every feature here also works without it.
 *
 * - Suggestions while typing: an ARIA 1.2 combobox over GET /api/places (known places
 *   while typing; the geocoder, lookup=1, only after a pause with nothing known), debounced,
 *   navigable with the arrow keys, Enter and Escape. Without it the form still searches,
 *   and the result page lists the other places with the same name.
 * - "Use my location": the browser's geolocation, then the weather at that point.
 * - A busy state on the search button while the next page loads.
 * - "Updated 3 minutes ago": the page says when its data was fetched as a time (so that
 *   its body is the same for everyone while it is fresh); this keeps how long ago current.
 * - "Your recent places": kept in this browser (localStorage), never sent to the server,
 *   so every result page is the same for everyone and caches can keep it. A page that
 *   another site linked to is not added. Without JavaScript (or storage) the list is
 *   simply not shown.
 * - "Favourite places": pinned with the button on a result page, kept in this browser
 *   like the recent places, listed first; each can be unpinned. A polite live region
 *   says what changed. Its words come from the page (data-* attributes, translated
 *   there), never from this file.
 *
 * Loaded with `defer` from the app's own origin; nothing inline, so a strict
 * Content-Security-Policy holds. What it says comes translated in the search form's
 * data-msg-* attributes (the page's language), not from a catalog fetched separately.
 */
(function () {
  "use strict";

  // Places already known are suggested as soon as typing slows; the geocoder (which
  // spends the site's upstream budget) is asked only after a real pause, and only when
  // nothing known matched.
  var DEBOUNCE_MS = 200;
  var PAUSE_MS = 800;
  var MIN_LENGTH = 2;

  var form = document.querySelector("form.search");
  if (!form) {
    return;
  }
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");

  function text(name) {
    return form.getAttribute("data-msg-" + name) || "";
  }

  function say(message, isError) {
    if (!status) {
      return;
    }
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function pageUrl(params) {
    var url = new URL(form.action, window.location.href);
    Object.keys(params).forEach(function (name) {
      url.searchParams.set(name, params[name]);
    });
    return url.toString();
  }

  function busy(element, on) {
    if (on) {
      element.setAttribute("aria-busy", "true");
    } else {
      element.removeAttribute("aria-busy");
    }
  }

  /* --- busy state while the next page loads ----------------------------------------- */
  form.addEventListener("submit", function () {
    busy(form, true);
  });
  // Coming back through the history shows the page as it was left, busy spinner included.
  window.addEventListener("pageshow", function () {
    busy(form, false);
  });

  /* --- suggestions while typing ------------------------------------------------------ */
  function setUpSuggestions() {
    var endpoint = form.getAttribute("data-suggest-url");
    if (!input || !endpoint || !window.fetch) {
      return;
    }
    var list = document.createElement("ul");
    list.id = "suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", text("suggested"));
    list.hidden = true;
    input.parentNode.appendChild(list);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    var options = [];
    var active = -1;
    var timer = null;
    var pauseTimer = null;
    var pending = null;
    var shownFor = "";
    var askedGeocoderFor = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (options.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      input.value = option.getAttribute("data-label");
      close();
      busy(form, true);
      window.location.assign(option.getAttribute("data-href"));
    }

    function render(places, query) {
      list.textContent = "";
      options = places.map(function (place, i) {
        var option = document.createElement("li");
        option.id = "suggestion-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-href", pageUrl({ lat: place.lat, lon: place.lon }));
        option.setAttribute("data-label", place.label);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = place.name;
        var where = document.createElement("span");
        where.className = "where";
        where.textContent = [place.state, place.country].filter(Boolean).join(", ");
        option.appendChild(name);
        option.appendChild(where);
        // mousedown, not click: it fires before the input loses focus and closes the list.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(option);
        });
        list.appendChild(option);
        return option;
      });
      shownFor = query;
      active = -1;
      if (options.length) {
        open();
        say(text("suggestions").replace("{count}", String(options.length)));
      } else {
        close();
        say("");
      }
    }

    function lookUp(askGeocoder) {
      var text = input.value.trim();
      if (text.length < MIN_LENGTH) {
        render([], "");
        return;
      }
      if (!askGeocoder && text === shownFor) {
        open();
        return;
      }
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      var url = new URL(endpoint, window.location.href);
      url.searchParams.set("q", text);
      if (askGeocoder) {
        url.searchParams.set("lookup", "1");
      }
      fetch(url.toString(), { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) {
          return response.ok ? response.json() : { places: [] };
        })
        .then(function (body) {
          // A slow answer for text the visitor has since changed is dropped.
          if (input.value.trim() === text) {
            render(body.places || [], text);
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            render([], "");
          }
        });
    }

    function lookUpAfterPause() {
      var text = input.value.trim();
      if (text === shownFor && options.length === 0 && text !== askedGeocoderFor) {
        askedGeocoderFor = text;
        lookUp(true);
      }
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      window.clearTimeout(pauseTimer);
      timer = window.setTimeout(lookUp, DEBOUNCE_MS, false);
      pauseTimer = window.setTimeout(lookUpAfterPause, PAUSE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var isOpen = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options.length) {
          return;
        }
        event.preventDefault();
        open();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= options.length) {
          next = 0;
        } else if (next < 0) {
          next = options.length - 1;
        }
        highlight(next);
      } else if (event.key === "Enter" && isOpen && active >= 0) {
        event.preventDefault();
        choose(options[active]);
      } else if (event.key === "Escape" && isOpen) {
        event.preventDefault();
        close();
      }
    });

    input.addEventListener("blur", close);

    // Searching answers the question: a suggestion lookup still waiting would only
    // cost an upstream call and race the search for the same name.
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      window.clearTimeout(pauseTimer);
      if (pending) {
        pending.abort();
      }
      close();
    });
  }

  /* --- my location ------------------------------------------------------------------- */
  function setUpLocation() {
    var button = form.querySelector("[data-locate]");
    if (!button || !("geolocation" in navigator)) {
      return;
    }
    var reasons = {
      1: text("denied"),
      2: text("unavailable"),
      3: text("timeout"),
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      busy(button, true);
      say(text("locating"));
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Two decimals (about 1 km) are plenty for weather, and share one cached lookup.
          say(text("found"));
          window.location.assign(
            pageUrl({
              lat: position.coords.latitude.toFixed(2),
              lon: position.coords.longitude.toFixed(2),
            })
          );
        },
        function (error) {
          busy(button, false);
          say(reasons[error.code] || reasons[2], true);
        },
        { timeout: 15000, maximumAge: 600000 }
      );
    });
  }

  /* --- recent places, in this browser ---------------------------------------------- */
  function setUpRecents() {
    var KEY = "weather:recent-places";
    var MAX = 6;
    var nav = document.querySelector("[data-recents]");
    var places = [];
    try {
      places = JSON.parse(window.localStorage.getItem(KEY) || "[]");
    } catch (error) {
      return; // no storage (a private window, a policy): no list
    }
    if (!Array.isArray(places)) {
      places = [];
    }
    places = places.filter(function (place) {
      return place && typeof place.label === "string" && typeof place.lat === "string" &&
        typeof place.lon === "string";
    });
    var shown = document.querySelector("article.report[data-place-lat]");
    // A page another site linked to is shown, not remembered: only places reached from
    // this site's own pages, or typed and bookmarked (no referrer), join the list.
    var fromElsewhere = false;
    try {
      fromElsewhere = Boolean(document.referrer) &&
        new URL(document.referrer).origin !== window.location.origin;
    } catch (error) {
      fromElsewhere = true;
    }
    if (shown && !fromElsewhere) {
      var current = {
        label: shown.getAttribute("data-place-label"),
        lat: shown.getAttribute("data-place-lat"),
        lon: shown.getAttribute("data-place-lon"),
      };
      places = [current].concat(places.filter(function (place) {
        return place.lat !== current.lat || place.lon !== current.lon;
      })).slice(0, MAX);
      try {
        window.localStorage.setItem(KEY, JSON.stringify(places));
      } catch (error) {
        // full or refused: the list just is not kept
      }
    }
    if (!nav || places.length === 0) {
      return;
    }
    var list = nav.querySelector("ul");
    places.forEach(function (place) {
      var link = document.createElement("a");
      link.className = "chip";
      link.href = "?lat=" + encodeURIComponent(place.lat) + "&lon=" + encodeURIComponent(place.lon);
      link.textContent = place.label;
      var item = document.createElement("li");
      item.appendChild(link);
      list.appendChild(item);
    });
    nav.hidden = false;
  }

  /* --- favourite places, in this browser ------------------------------------------- */
  function setUpFavourites() {
    var KEY = "weather:favourite-places";
    var MAX = 12;
    var nav = document.querySelector("[data-favourites]");
    var status = document.querySelector("[data-favourites-status]");
    var pin = document.querySelector("[data-pin]");
    var shown = document.querySelector("article.report[data-place-lat]");
    if (!nav || !status) {
      return;
    }
    var list = nav.querySelector("ul");

    function words(name, place) {
      return (status.getAttribute(name) || "").replace("{place}", place.label);
    }
    function load() {
      var places;
      try {
        places = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      } catch (error) {
        return null; // no storage (a private window, a policy): no favourites
      }
      if (!Array.isArray(places)) {
        return [];
      }
      return places.filter(function (place) {
        return place && typeof place.label === "string" && typeof place.lat === "string" &&
          typeof place.lon === "string";
      });
    }
    function save(places) {
      try {
        window.localStorage.setItem(KEY, JSON.stringify(places));
        return true;
      } catch (error) {
        return false;
      }
    }
    function same(a, b) {
      return a.lat === b.lat && a.lon === b.lon;
    }
    function isPinned(places, place) {
      return places.some(function (other) { return same(other, place); });
    }
    function announce(message) {
      // Emptied first, so that saying the same words twice is still a change.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function render(places, focusIndex) {
      list.textContent = "";
      places.forEach(function (place) {
        var link = document.createElement("a");
        link.className = "chip";
        link.href = "?lat=" + encodeURIComponent(place.lat) + "&lon=" + encodeURIComponent(place.lon);
        link.textContent = place.label;
        var unpin = document.createElement("button");
        unpin.type = "button";
        unpin.className = "chip-unpin";
        unpin.setAttribute("aria-label", words("data-unpin-label", place));
        unpin.textContent = "\u00d7";
        unpin.addEventListener("click", function () {
          var current = load() || [];
          var index = current.findIndex(function (other) { return same(other, place); });
          var remaining = current.filter(function (other) { return !same(other, place); });
          if (!save(remaining)) {
            return;
          }
          render(remaining, Math.min(Math.max(index, 0), remaining.length - 1));
          announce(words("data-unpinned", place));
        });
        var item = document.createElement("li");
        item.appendChild(link);
        item.appendChild(unpin);
        list.appendChild(item);
      });
      nav.hidden = places.length === 0;
      if (pin && shown) {
        pin.setAttribute("aria-pressed", String(isPinned(places, here())));
      }
      if (focusIndex !== undefined) {
        // Keep the keyboard where it was: on the next entry's unpin button, or the search.
        var buttons = list.querySelectorAll(".chip-unpin");
        (buttons[focusIndex] || input).focus();
      }
    }
    function here() {
      return {
        label: shown.getAttribute("data-place-label"),
        lat: shown.getAttribute("data-place-lat"),
        lon: shown.getAttribute("data-place-lon"),
      };
    }

    var places = load();
    if (places === null) {
      return;
    }
    render(places);
    if (pin && shown) {
      pin.hidden = false;
      pin.addEventListener("click", function () {
        var current = load() || [];
        var place = here();
        var pinned = isPinned(current, place);
        var next = pinned
          ? current.filter(function (other) { return !same(other, place); })
          : current.concat([place]).slice(-MAX);
        if (!save(next)) {
          return;
        }
        render(next);
        announce(words(pinned ? "data-unpinned" : "data-pinned", place));
      });
    }
  }

  function setUpRelativeTimes() {
    var times = document.querySelectorAll("time[data-relative]");
    if (times.length === 0 || !window.Intl || !Intl.RelativeTimeFormat) {
      return;
    }
    var words = new Intl.RelativeTimeFormat(document.documentElement.lang || "en", {
      numeric: "auto"
    });
    function update() {
      times.forEach(function (time) {
        var then = Date.parse(time.getAttribute("datetime"));
        if (isNaN(then)) {
          return;
        }
        var minutes = Math.round((then - Date.now()) / 60000);
        time.textContent = Math.abs(minutes) < 60
          ? words.format(minutes, "minute")
          : words.format(Math.round(minutes / 60), "hour");
      });
    }
    update();
    window.setInterval(update, 30000);
  }

  setUpSuggestions();
  setUpLocation();
  setUpFavourites();
  setUpRecents();
  setUpRelativeTimes();
})();
