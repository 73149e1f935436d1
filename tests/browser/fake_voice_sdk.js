/*
 * A stand-in for Twilio's Voice SDK bundle (twilio.min.js), served to the browser by the
 * agent-console test only (Twilio cannot be reached here). It keeps the parts of the SDK the
 * console uses (Twilio.Device: on, register, updateToken, "registered" and "incoming";
 * Call: customParameters, accept, sendDigits, disconnect and their events) and records what the
 * page did, for the test to read from window.__fakeVoice.
 */
(function () {
  "use strict";

  function Emitter() { this.handlers = {}; }
  Emitter.prototype.on = function (name, handler) {
    (this.handlers[name] = this.handlers[name] || []).push(handler);
    return this;
  };
  Emitter.prototype.emit = function (name, value) {
    (this.handlers[name] || []).forEach(function (handler) { handler(value); });
  };

  function Call(parameters) {
    Emitter.call(this);
    this.customParameters = new Map(Object.entries(parameters));
    this.digits = [];
    this.accepted = false;
    this.disconnected = false;
  }
  Call.prototype = Object.create(Emitter.prototype);
  Call.prototype.accept = function () { this.accepted = true; this.emit("accept", this); };
  Call.prototype.sendDigits = function (digits) { this.digits.push(digits); };
  Call.prototype.disconnect = function () {
    this.disconnected = true;
    this.emit("disconnect", this);
  };
  Call.prototype.reject = function () { this.emit("reject", this); };

  var fake = {
    devices: [],
    calls: [],
    ring: function (parameters) {
      var call = new Call(parameters);
      fake.calls.push(call);
      fake.devices[fake.devices.length - 1].emit("incoming", call);
      return fake.calls.length - 1;
    },
    hangUp: function (index) { fake.calls[index].disconnect(); },
  };

  function Device(token, options) {
    Emitter.call(this);
    this.token = token;
    this.options = options;
    this.registered = false;
    fake.devices.push(this);
  }
  Device.prototype = Object.create(Emitter.prototype);
  Device.prototype.register = function () {
    var device = this;
    device.registered = true;
    setTimeout(function () { device.emit("registered"); }, 0);
    return Promise.resolve();
  };
  Device.prototype.updateToken = function (token) { this.token = token; };

  window.Twilio = { Device: Device };
  window.__fakeVoice = fake;
})();
