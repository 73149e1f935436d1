/*
 * The agent console: registers this browser with Twilio's Voice SDK as the signed-in agent,
 * shows each incoming call with what is known of it while the whisper plays, and answers the
 * whisper with the campaign's keys.
 *
 * 1. A token from the server (renewed before it expires) registers a Twilio.Device.
 * 2. An incoming call is picked up at once, so the agent hears the whisper; the card shows the
 *    campaign and menu choice from the call's parameters, then the caller's place, name and
 *    CRM note from the server.
 * 3. Accept sends the accept key (the whisper's <Gather> joins the caller); Decline sends
 *    another key (the leg ends and the next destination rings); Report spam, where the
 *    campaign takes reports, sends its report key (the caller is blocked). Hang up ends the
 *    call.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("agent-console-config").textContent);
  var csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  var available = config.available;
  var device = null;
  var current = null;
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value || "—"; }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data || {}),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || "The server said " + response.status); }
        return body;
      });
    });
  }

  function fetchToken() {
    return post(config.tokenUrl).then(function (body) { return body.token; });
  }

  function setStatus(words) { $("console-status").textContent = words; }

  function showAvailability() {
    $("availability-state").textContent = available ? "available" : "away";
    $("availability-toggle").textContent = available ? "Go away" : "Become available";
  }

  function tick(startedAt) {
    var seconds = Math.floor((Date.now() - startedAt) / 1000);
    var rest = seconds % 60;
    $("call-timer").textContent = Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function reset() {
    if (timer) { clearInterval(timer); timer = null; }
    current = null;
    $("incoming-call").hidden = true;
  }

  function showDetails(sid) {
    if (!sid) { return; }
    fetch(config.detailsUrl.replace("CALL_SID", encodeURIComponent(sid)), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (details) {
        if (!details || !current) { return; }
        text("call-campaign", details.campaign);
        text("call-caller", details.caller);
        text("call-place", details.place);
        text("call-choice", details.choice);
        text("call-name", details.name);
        text("call-note", details.note);
      })
      .catch(function () { /* the parameters already shown will do */ });
  }

  function incoming(call) {
    var params = call.customParameters;
    current = call;
    ["call-caller", "call-place", "call-name", "call-note"].forEach(function (id) { text(id, ""); });
    text("call-campaign", params.get("campaign"));
    text("call-choice", params.get("choice"));
    $("call-timer").textContent = "0:00";
    $("call-state").textContent = "Incoming call: the whisper is playing";
    $("call-accept").hidden = false;
    $("call-decline").hidden = false;
    $("call-report").hidden = !params.get("report_key");
    $("call-hangup").hidden = true;
    $("incoming-call").hidden = false;
    call.on("disconnect", reset);
    call.on("cancel", reset);
    call.on("reject", reset);
    showDetails(params.get("call"));
    // Picking up the leg plays the whisper; the keys below answer it.
    call.accept();
  }

  function answer(key, state) {
    if (!current) { return; }
    current.sendDigits(key);
    $("call-state").textContent = state;
    $("call-accept").hidden = true;
    $("call-decline").hidden = true;
    $("call-report").hidden = true;
  }

  $("call-accept").addEventListener("click", function () {
    if (!current) { return; }
    answer(current.customParameters.get("accept_key"), "On the call");
    $("call-hangup").hidden = false;
    var startedAt = Date.now();
    timer = setInterval(function () { tick(startedAt); }, 1000);
  });
  $("call-decline").addEventListener("click", function () {
    if (!current) { return; }
    answer(current.customParameters.get("decline_key"), "Declined");
  });
  $("call-report").addEventListener("click", function () {
    if (!current || !current.customParameters.get("report_key")) { return; }
    answer(current.customParameters.get("report_key"), "Reported as spam: the caller is blocked");
  });
  $("call-hangup").addEventListener("click", function () {
    if (current) { current.disconnect(); }
  });
  $("availability-toggle").addEventListener("click", function () {
    post(config.availabilityUrl, { available: available ? "false" : "true" })
      .then(function (body) { available = body.available; showAvailability(); })
      .catch(function (error) { setStatus(error.message); });
  });

  fetchToken()
    .then(function (token) {
      device = new Twilio.Device(token, { codecPreferences: ["opus", "pcmu"], closeProtection: true });
      device.on("registered", function () { setStatus("Ready: calls ring here"); });
      device.on("unregistered", function () { setStatus("Offline"); });
      device.on("error", function (error) { setStatus("Error: " + error.message); });
      device.on("incoming", incoming);
      device.on("tokenWillExpire", function () {
        fetchToken().then(function (fresh) { device.updateToken(fresh); });
      });
      return device.register();
    })
    .catch(function (error) { setStatus(error.message); });
  showAvailability();
})();
