// The widget's state machine, without a browser: node --test tests/widget/state.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import * as I from "../../src/helpline/widget/static/i18n.js";
import * as S from "../../src/helpline/widget/static/state.js";

const team = (id, extra = {}) => ({ id, message_type: "outgoing", sender_type: "User", status: "sent", updated_at: id, ...extra });
const mine = (id, echo, extra = {}) => ({ id, message_type: "incoming", sender_type: "Contact", echo_id: echo, status: "sent", updated_at: id, ...extra });

test("merging keeps each message once, in id order, and counts the team's new ones as unread", () => {
  const state = S.initial();
  assert.equal(S.merge(state, [team(3), team(1)]), 2);
  assert.equal(S.merge(state, [team(1), team(2), team(3)]), 1); // a resume that repeats two
  assert.deepEqual(state.messages.map((m) => m.id), [1, 2, 3]);
  assert.equal(state.lastId, 3);
  assert.equal(state.unread, 3);
  S.merge(state, [team(4)], { open: true });
  assert.equal(state.unread, 3); // shown at once: not unread
});

test("the server's copy replaces the pending message with the same echo_id", () => {
  const state = S.initial();
  S.addPending(state, "e1", "hello");
  S.merge(state, [team(5)]);
  assert.deepEqual(state.messages.map((m) => m.id ?? "pending"), [5, "pending"]); // pending stay last
  S.merge(state, [mine(6, "e1")]);
  assert.deepEqual(state.messages.map((m) => m.id), [5, 6]);
  S.addPending(state, "e2", "lost");
  S.failPending(state, "e2");
  assert.equal(state.messages.at(-1).status, "failed");
  S.addPending(state, "e3", "taken");
  S.sentPending(state, "e3");
  assert.equal(state.messages.at(-1).status, "sent");
});

test("statuses only move forward, and updates merge into the known message", () => {
  assert.equal(S.later("seen", "delivered"), "seen");
  assert.equal(S.later("sent", "seen"), "seen");
  assert.equal(S.later("sending", "sent"), "sent");
  const state = S.initial();
  S.merge(state, [mine(1, "a")]);
  S.merge(state, [mine(1, "a", { status: "seen", updated_at: 5 })]);
  S.merge(state, [mine(1, "a", { status: "delivered", updated_at: 6 })]);
  assert.equal(state.byId.get(1).status, "seen");
});

test("receipts to report: delivered first, then seen, each once", () => {
  const state = S.initial();
  S.merge(state, [team(1), mine(2, "b"), team(3, { sender_type: "AgentBot" })]);
  const delivered = S.toReport(state, "delivered");
  assert.deepEqual(delivered, [1, 3]);
  S.markReported(state, delivered, "delivered");
  assert.deepEqual(S.toReport(state, "delivered"), []);
  assert.deepEqual(S.toReport(state, "seen"), [1, 3]);
  S.markReported(state, [1, 3], "seen");
  assert.deepEqual(S.toReport(state, "seen"), []);
});

test("backoff grows to 30 s with jitter", () => {
  assert.equal(S.backoff(0, () => 1), 500);
  assert.equal(S.backoff(0, () => 0), 375);
  assert.equal(S.backoff(3, () => 1), 4000);
  assert.equal(S.backoff(50, () => 1), 30000);
});

test("the panel's phase follows the conversation and the team's availability", () => {
  assert.equal(S.phase(null, { agents_online: 0, queue_enabled: false }), "offline");
  assert.equal(S.phase(null, { agents_online: 0, queue_enabled: true, prechat: "none" }), "new");
  assert.equal(S.phase(null, { agents_online: 1, prechat: "email" }), "prechat");
  assert.equal(S.phase({ status: "open", substatus: "inqueue" }, {}), "waiting");
  assert.equal(S.phase({ status: "open", substatus: "interacting" }, {}), "assigned");
  assert.equal(S.phase({ status: "pending", substatus: "oninbox" }, {}), "bot");
  assert.equal(S.phase({ status: "resolved", substatus: "oninbox" }, {}), "ended");
  assert.equal(S.phase({ status: "open" }, { refused: true }), "refused");
});

test("interactive options and feedback answers", () => {
  const card = { content_type: "card", content_attributes: { buttons: [
    { type: "link", title: "See", url: "https://x.example" }, { type: "postback", title: "Buy", value: "BUY" },
  ] } };
  assert.deepEqual(S.options(card), [
    { title: "See", kind: "link", url: "https://x.example" }, { title: "Buy", value: "BUY", kind: "postback" },
  ]);
  assert.equal(S.feedbackValue(5, "  "), "5");
  assert.equal(S.feedbackValue(3, "slow"), "3: slow");
});

test("every text in every locale, and the locale from the attribute or the browser", () => {
  assert.deepEqual(I.LOCALES, ["en", "pt-BR", "uk"]);
  assert.deepEqual(I.KEYS["pt-BR"], I.KEYS.en);
  assert.deepEqual(I.KEYS.uk, I.KEYS.en);
  assert.equal(I.pickLocale("", ["uk-UA", "en"]), "uk");
  assert.equal(I.pickLocale("", ["pt-PT"]), "pt-BR");
  assert.equal(I.pickLocale("pt-BR", ["uk"]), "pt-BR");
  assert.equal(I.pickLocale("", ["de-DE"]), "en");
  assert.equal(I.translator("uk")("typing", { name: "Ana" }), "Ana друкує…");
  assert.equal(I.size(600 * 1024), "600 KB");
  assert.equal(I.size(25 * 1024 * 1024), "25 MB");
});
