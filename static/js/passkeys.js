// Passkeys and security keys (WebAuthn) for the console's second factor. No inline script: the buttons carry
// data- attributes, this file (served from static/) wires them. The server (py_webauthn) makes the options and
// checks the answers; this file only converts between JSON (base64url) and the browser's ArrayBuffers.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var padded = base64 + "===".slice((base64.length + 3) % 4);
    var binary = atob(padded);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || response.statusText);
          error.redirect = data.redirect;
          throw error;
        }
        return data;
      });
    });
  }

  function showError(button, message) {
    var box = document.getElementById(button.dataset.errorTarget || "");
    if (box) {
      box.textContent = message;
      box.classList.remove("d-none");
    }
  }

  function register(button) {
    if (!window.PublicKeyCredential) return showError(button, button.dataset.unsupported);
    var nameField = document.getElementById(button.dataset.nameField || "");
    post(button.dataset.optionsUrl)
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        (options.excludeCredentials || []).forEach(function (item) { item.id = toBytes(item.id); });
        return navigator.credentials.create({ publicKey: options });
      })
      .then(function (credential) {
        return post(button.dataset.completeUrl, {
          name: nameField ? nameField.value : "",
          next: button.dataset.next || "",
          credential: {
            id: credential.id,
            rawId: toBase64url(credential.rawId),
            type: credential.type,
            response: {
              clientDataJSON: toBase64url(credential.response.clientDataJSON),
              attestationObject: toBase64url(credential.response.attestationObject),
              transports: credential.response.getTransports ? credential.response.getTransports() : [],
            },
          },
        });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) {
        if (error.redirect) return window.location.assign(error.redirect);
        showError(button, error.message);
      });
  }

  function authenticate(button) {
    if (!window.PublicKeyCredential) return showError(button, button.dataset.unsupported);
    post(button.dataset.optionsUrl)
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        (options.allowCredentials || []).forEach(function (item) { item.id = toBytes(item.id); });
        return navigator.credentials.get({ publicKey: options });
      })
      .then(function (credential) {
        return post(button.dataset.completeUrl, {
          next: button.dataset.next || "",
          credential: {
            id: credential.id,
            rawId: toBase64url(credential.rawId),
            type: credential.type,
            response: {
              clientDataJSON: toBase64url(credential.response.clientDataJSON),
              authenticatorData: toBase64url(credential.response.authenticatorData),
              signature: toBase64url(credential.response.signature),
              userHandle: credential.response.userHandle ? toBase64url(credential.response.userHandle) : null,
            },
          },
        });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) {
        if (error.redirect) return window.location.assign(error.redirect);
        showError(button, error.message);
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.passkey === "register") register(button);
    else authenticate(button);
  });
})();
