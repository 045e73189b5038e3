"""Our changes to Python-Markdown's syntax: typed HTML stays text, messages know only a small subset.

Imported by app/markup.py when it builds its first converter, so a process loads Markdown only once it renders text.
"""
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor


class _LiteralAmpersand(InlineProcessor):
    """An ampersand is a character, so `&lt;` typed shows as `&lt;`, not as `<`."""

    def handleMatch(self, m, data):
        """Stash an escaped ampersand where Markdown would have kept a character reference."""
        return self.md.htmlStash.store("&amp;"), m.start(0), m.end(0)


class TypedText(Extension):
    """Raw HTML and character references in the source stay text; the serializer escapes them."""

    def extendMarkdown(self, md):
        """Drop raw-HTML passthrough (blocks, inline tags, entities) and escape every ampersand."""
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.deregister("entity")
        md.inlinePatterns.register(_LiteralAmpersand("&", md), "literal_ampersand", 80)


class MessageSubset(Extension):
    """Messages know bold, italic, links and line breaks; other Markdown stays as typed instead of being stripped."""

    BLOCKS = ("code", "hashheader", "setextheader", "hr", "olist", "ulist", "quote", "reference")
    INLINE = ("backtick", "image_link", "image_reference", "short_image_ref")

    def extendMarkdown(self, md):
        """Remove the block and inline syntax whose tags the sanitizer would drop together with the typed marks."""
        for name in self.BLOCKS:
            md.parser.blockprocessors.deregister(name)
        for name in self.INLINE:
            md.inlinePatterns.deregister(name)
