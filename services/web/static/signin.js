// The sign-in page: the pasted token becomes the session cookie (POST /ui/session).
import { api, put, el, header, journeyHref, param, say } from "./common.js";

function safeNext() {
  const next = param("next");
  // Only a path of these pages: never an address elsewhere.
  return next && next.startsWith("/ui/") && !next.startsWith("//") ? next : null;
}

function signedIn(who) {
  document.getElementById("signin").hidden = true;
  const box = document.getElementById("signed-in");
  box.hidden = false;
  put(document.getElementById("signed-in-as"), 
    "Signed in as ", el("strong", { text: who.name }), ` — roles: ${who.roles.join(", ")}.`);
}

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value.trim();
  try {
    await api("/ui/session", { method: "POST", body: { token } });
  } catch (error) {
    say(`Sign-in failed: ${error.message}`, "error");
    return;
  }
  document.getElementById("token").value = "";
  const next = safeNext();
  if (next) {
    location.assign(next);
    return;
  }
  signedIn(await header(null));
});

document.getElementById("open-journey").addEventListener("submit", (event) => {
  event.preventDefault();
  location.assign(journeyHref(document.getElementById("customer").value.trim()));
});

const who = await header(null);
if (who) signedIn(who);
