import { describe, expect, it } from "vitest";
import { bob, carol } from "../test/chatFixtures";
import { composeHtml, draftFromHtml, mentionCandidates, mentionQuery } from "./composerText";

describe("composeHtml", () => {
  it("escapes text and turns light markup into HTML", () => {
    expect(composeHtml("**bold** _it_ `a<b>` <script>", []).html).toBe(
      "<b>bold</b> <i>it</i> <code>a&lt;b&gt;</code> &lt;script&gt;",
    );
    expect(composeHtml("list:\n- one\n- two\nend", []).html).toBe("list:<ul><li>one</li><li>two</li></ul>end");
    expect(composeHtml("line 1\nline 2", []).html).toBe("line 1<br>line 2");
  });

  it("numbers mentions in the order they appear", () => {
    const { html, mentions } = composeHtml("@Carol Jones and @Bob Smith, hi", [bob, carol]);
    expect(html).toBe('<at id="0">Carol Jones</at> and <at id="1">Bob Smith</at>, hi');
    expect(mentions).toEqual([carol, bob]);
  });

  it("drops a picked person whose mention was deleted from the text", () => {
    expect(composeHtml("hello", [bob]).mentions).toEqual([]);
  });
});

describe("draftFromHtml", () => {
  it("gives back editable text with the mentions", () => {
    const { text, mentions } = draftFromHtml('<p>Hi <at id="0">Bob Smith</at>, <b>look</b></p>');
    expect(text).toBe("Hi @Bob Smith, **look**");
    expect(mentions.map((m) => m.displayName)).toEqual(["Bob Smith"]);
  });
});

describe("mention suggestions", () => {
  it("finds the @query before the caret and matches any word of a name", () => {
    expect(mentionQuery("hi @jo", 6)).toEqual({ start: 3, query: "jo" });
    expect(mentionQuery("mail a@b", 8)).toBeNull();
    expect(mentionCandidates([bob, carol], "jo").map((p) => p.id)).toEqual([carol.id]);
  });
});
