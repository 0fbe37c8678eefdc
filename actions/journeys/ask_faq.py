"""Help Center answers: `ask_faq`, and messages the assistant did not understand (`nlu_fallback`).

The question is searched in the Zendesk Help Center in the customer's locale (fr, es, en-us). The first
result that really is about the question (enough of its words in the article, one of them in its title
or labels) is answered with its title, a one- or two-sentence gist and its link, then "did this answer
your question?": yes ends there, no offers a ticket or an agent. On a not-understood message, nothing
relevant (or the Help Center down) just asks the customer to say it another way.
"""

import html
import logging
import re
import unicodedata
from typing import Any, Dict, List, Optional, Set, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import outcomes
from actions.backends import zendesk
from actions.dialogue import state
from actions.dialogue.account import register_journey
from actions.dialogue.state import end_journey
from actions.i18n import language_of, say
from clients import BackendError
from clients.zendesk import Article
from common import clock, config
from common.i18n import render

logger = logging.getLogger(__name__)
GIST_CHARACTERS = 300
# Words that say nothing about the topic of a question.
STOPWORDS = {
    "fr": set(
        """le la les un une des du de d l au aux et ou en dans sur sous pour par avec sans ce cet cette ces
                 mon ma mes ton ta tes son sa ses notre votre vos nos leur je tu il elle on nous vous ils elles me te
                 se moi qui que quoi quel quelle quels quelles comment combien pourquoi quand est sont ai as avons avez ont
                 suis etre avoir faire fait peut peux veux voudrais svp stp merci bonjour bonsoir pas ne plus tres
                 bien mais donc car si y c ca n j qu s t m""".split()
    ),
    "es": set(
        """el la los las un una unos unas de del al a en por para con sin y o u que como cual cuales cuanto cuanta cuantos cuantas cuando
                 donde quien porque mi mis tu tus su sus me te se le les lo nos yo usted es son esta estan hay tengo
                 tiene quiero quisiera puedo puede hacer hago hola gracias favor buenas buenos dias no si muy mas
                 pero ya""".split()
    ),
    "en": set(
        """a an the and or of to in on at by for with from about how what when where why which who whom do
                 does did i me my you your we our it is are am be been have has can could would should will please
                 hi hello thanks thank want like get there this that not no yes if much many""".split()
    ),
}
BLOCK = re.compile(r"</?(?:p|li|h[1-6]|tr|td|th|table|ul|ol|br|div)\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]+>")
PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.I | re.S)


def plain(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub("", BLOCK.sub(" ", fragment or ""))).split())


def gist(body_html: str, limit: int = GIST_CHARACTERS) -> str:
    """The first one or two sentences of the article's first paragraph, at most `limit` characters."""
    first = next((text for text in (plain(p) for p in PARAGRAPH.findall(body_html or "")) if text), "") or plain(
        body_html
    )
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", first) if s]
    out = ""
    for sentence in sentences[:2]:
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    if not out and first:  # one sentence longer than the limit: cut at a word
        out = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(word: str) -> str:
    """A crude stem: plural and conjugation endings do not matter ("loans" ~ "loan", "activo" ~ "activar")."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    return word[:5]


def topic_keys(text: str, language: str) -> Set[str]:
    stop = STOPWORDS.get(language, set())
    return {_key(w) for w in re.findall(r"[a-z0-9]+", _fold(text)) if len(w) > 1 and w not in stop}


def match(question: str, article: Article, language: str) -> Tuple[float, int]:
    """(share of the question's words found in the article, how many of them are in its title or labels)."""
    asked = topic_keys(question, language)
    if not asked:
        return 0.0, 0
    heading = re.findall(r"[a-z0-9]+", _fold(article.title + " " + " ".join(article.labels).replace("_", " ")))
    body = set(re.findall(r"[a-z0-9]+", _fold(plain(article.body) or plain(article.snippet))))
    in_heading = {k for k in asked if any(w.startswith(k) for w in heading)}
    found = in_heading | {k for k in asked if any(w.startswith(k) for w in body)}
    return len(found) / len(asked), len(in_heading)


def relevant(question: str, article: Article, language: str) -> bool:
    """Enough of the question's words are in the article, at least one in its title or labels."""
    coverage, in_heading = match(question, article, language)
    return in_heading > 0 and coverage >= config.HELP_CENTRE_MIN_COVERAGE


def best_article(question: str, articles: List[Article], language: str) -> Optional[Article]:
    """The relevant result covering the question best; Zendesk's ranking decides between equals."""
    scored = [
        (match(question, a, language), -rank, a) for rank, a in enumerate(articles) if relevant(question, a, language)
    ]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else None


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


class ActionAskFaq(Action):
    answers_no = True  # "no" to "did this answer your question?" comes back here (actions/dialogue/operations.py)

    def name(self) -> Text:
        return "action_ask_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = latest_intent(tracker)
        if state.waiting_journey(tracker) == "ask_faq" and intent in ("affirm", "deny"):
            return self.follow_up(dispatcher, tracker, intent == "affirm")
        not_understood = intent == "nlu_fallback"
        question = ((tracker.latest_message or {}).get("text") or "").strip()
        language = language_of(tracker)
        if question.startswith("/") or not topic_keys(question, language):
            return self.nothing(dispatcher, tracker, not_understood, "faq_ask_question")
        try:
            articles = zendesk().search_articles(question, language, limit=5)
        except BackendError as error:
            logger.warning("help centre search failed: %s", error)
            return self.nothing(dispatcher, tracker, not_understood, "faq_unavailable")
        best = best_article(question, articles, language)
        if best is None:
            return self.nothing(dispatcher, tracker, not_understood, "faq_nothing_found")
        message = render(
            "faq_answer", language, title=best.title, url=best.url, gist=gist(best.body) or plain(best.snippet)
        )
        if not_understood:
            message["text"] = render("faq_guess", language)["text"] + "\n" + message["text"]
        dispatcher.utter_message(**message)
        draft: Dict[str, Any] = {"journey": "ask_faq", "values": {"article": best.id}, "at": clock.timestamp()}
        return state.asking("ask_faq", draft)

    @staticmethod
    def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, helped: bool) -> List[EventType]:
        if helped:
            say(dispatcher, tracker, "faq_helped")
            article = (state.draft_of(tracker).get("values") or {}).get("article")
            outcomes.record(tracker, "help_centre", topic=f"ask_faq:{article}" if article else "ask_faq")
        else:
            say(dispatcher, tracker, "faq_not_helped")
        return end_journey()

    @staticmethod
    def nothing(dispatcher: CollectingDispatcher, tracker: Tracker, not_understood: bool, key: str) -> List[EventType]:
        if not_understood:  # the customer did not ask the help centre: just ask them to say it again
            say(dispatcher, tracker, "faq_rephrase")
            return []
        say(dispatcher, tracker, key)
        return end_journey()


register_journey("ask_faq", ActionAskFaq)  # a yes / no to "did this answer your question?" comes back here
