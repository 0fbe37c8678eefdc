"""The Help Center's articles (one YAML file per locale, same article ids in every locale, as Zendesk
translations share their article's id) and a small but real search over them.

Ranking: accent-insensitive tokens, a light suffix-stripping stemmer per language, a few synonyms per
language, and a score that weighs title over labels over body, by each term's rarity (idf), times the
share of the query's terms the article covers.
"""

import html
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent
LOCALES = ("fr", "es", "en-us")
LANGUAGE = {"fr": "fr", "es": "es", "en-us": "en"}

# Suffixes stripped by the stemmer, longest first; a stem keeps at least 3 characters.
SUFFIXES = {
    "fr": [
        "issements",
        "issement",
        "ations",
        "ation",
        "ements",
        "ement",
        "ments",
        "ment",
        "euses",
        "euse",
        "eurs",
        "eur",
        "ables",
        "able",
        "ees",
        "ee",
        "er",
        "ez",
        "es",
        "e",
        "s",
        "x",
    ],
    "es": [
        "aciones",
        "acion",
        "amientos",
        "amiento",
        "mente",
        "ando",
        "iendo",
        "ados",
        "idos",
        "ado",
        "ido",
        "ar",
        "er",
        "ir",
        "es",
        "as",
        "os",
        "a",
        "o",
        "e",
        "s",
    ],
    "en": ["ations", "ation", "ings", "ing", "ers", "er", "ies", "ied", "ed", "es", "e", "s"],
}

STOPWORDS = {
    "fr": set(
        """a au aux avec ce ces cet cette comment d de des du elle en est et il je j l la le les leur lui ma me
                 mes mon ne ni nous on ou par pas pour qu que quel quelle qui sa se ses si son sur ta te tes ton tu
                 un une vos votre vous y c ca est-ce faire fait faut peut puis veux voudrais aimerais svp merci
                 bonjour bonsoir mais plus tres bien ai as avons avez ont suis es sommes etes sont n""".split()
    ),
    "es": set(
        """a al como con cual de del el ella en es esta este esto hay la las le lo los me mi mis no o para
                 pero por que quiero quisiera se si sin su sus te tu tus un una uno y yo hola gracias favor puedo
                 hago hacer mas muy bien buenas buenos dias tardes tengo tiene tenes tienen estoy esta estan""".split()
    ),
    "en": set(
        """a about an and are at be by can could do does for from have how i if in is it me my of on or
                 our please should so the this to want we what when where which why will with would you your
                 hello hi thanks thank get dont don t cant can't isn't am has""".split()
    ),
}

# Words that mean the same thing to a customer; matched with a lower weight than the word itself.
SYNONYMS = {
    "fr": [
        "internet donnees data connexion apn 4g 3g web",
        "configurer parametrer parametres reglages configuration installer",
        "telephone portable smartphone mobile android iphone",
        "puk bloquee bloque blocage verrouillee",
        "sim puce carte",
        "remplacer remplacement changer perdu perte vole duplicata swap",
        "itinerance roaming etranger international voyage voyager",
        "transfert transferer envoyer envoi",
        "retrait retirer",
        "frais tarif tarifs cout prix commission",
        "pin secret oublie reinitialiser",
        "pret avance emprunt emprunter depannage dette rembourser remboursement",
        "facture factures",
        "contester contestation reclamation erreur litige",
        "payer paiement regler reglement",
        "reseau signal couverture capte panne",
        "routeur box modem wifi",
        "forfait plan abonnement offre",
        "pass pack bundle",
        "agence boutique magasin",
        "horaires heures ouverture",
        "rendez-vous rdv",
        "fraude arnaque escroquerie pirate",
        "portabilite porter garder conserver",
        "recharge recharger rechargement",
        "solde consulter",
        "consommation economiser",
    ],
    "es": [
        "internet datos data conexion apn 4g 3g navegar",
        "configurar configuracion ajustes ajuste instalar",
        "telefono celular movil smartphone android iphone",
        "puk bloqueado bloqueada bloqueo",
        "sim chip tarjeta",
        "reponer reposicion cambiar cambio perdido robado robo reemplazo",
        "roaming itinerancia extranjero internacional viaje viajar",
        "transferencia transferir enviar envio mandar",
        "retiro retirar",
        "comision comisiones tarifa tarifas costo precio cobro",
        "pin clave contrasena olvide restablecer",
        "prestamo adelanto prestar deuda pagar",
        "factura facturas recibo",
        "reclamo reclamar disputa error cobro",
        "pagar pago",
        "red senal cobertura falla",
        "router modem wifi",
        "plan contrato",
        "paquete paquetes bolsa",
        "tienda agencia sucursal",
        "horario horarios abierto",
        "cita citas turno",
        "fraude estafa robo",
        "portabilidad portar conservar",
        "recarga recargar",
        "saldo consultar",
        "consumo ahorrar",
    ],
    "en": [
        "internet data connection apn 4g 3g web",
        "configure setup settings set install",
        "phone mobile smartphone android iphone",
        "puk blocked locked lock",
        "sim card chip",
        "replace replacement lost stolen swap new",
        "roaming abroad international travel travelling",
        "transfer send sending",
        "withdraw withdrawal cash",
        "fees fee rates rate cost price charges",
        "pin forgot reset",
        "loan advance borrow debt repay repayment",
        "bill bills invoice invoices",
        "dispute wrong error overcharged complaint",
        "pay payment",
        "network signal coverage outage",
        "router modem box wifi",
        "plan contract subscription",
        "pack bundle package",
        "store shop agency branch",
        "hours opening open",
        "appointment booking",
        "fraud scam",
        "porting port keep",
        "topup top-up recharge airtime",
        "balance check",
        "usage save consumption",
    ],
}

TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)?")
TAG = re.compile(r"<[^>]+>")
BLOCK = re.compile(r"</?(?:p|li|h[1-6]|tr|td|th|table|ul|ol|br|div)\b[^>]*>", re.I)


def fold(text: str) -> str:
    """Lower case without accents: "Paramètres" and "parametres" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str, language: str) -> str:
    for suffix in SUFFIXES[language]:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str, language: str) -> list:
    """The stems of the meaningful words of a text, in order."""
    words = TOKEN.findall(fold(text))
    return [stem(word, language) for word in words if word not in STOPWORDS[language]]


def plain_text(body_html: str) -> str:
    """Block tags become spaces, inline tags (<strong>, <em>) vanish: "<strong>PIN</strong>," stays "PIN,"."""
    return " ".join(html.unescape(TAG.sub("", BLOCK.sub(" ", body_html))).split())


def text_blocks(body_html: str) -> list:
    """The body's paragraphs, list items, headings and table rows as plain text, in order."""
    return [text for text in (plain_text(part) for part in BLOCK.split(body_html)) if text]


@lru_cache(maxsize=1024)
def body_sentences(body_html: str, text: str, language: str) -> tuple:
    """An article's sentences, each with the stems of its words; made once per article body (every search showed
    them again)."""
    sentences = [sentence for block in text_blocks(body_html) for sentence in re.split(r"(?<=[^\W\d][.!?])\s+", block)]
    return tuple(
        (sentence, tuple(stem(word, language) for word in TOKEN.findall(fold(sentence))))
        for sentence in sentences or [text]
    )


@dataclass
class Article:
    id: int
    locale: str
    section_id: int
    section_name: str
    title: str
    body: str
    label_names: list
    position: int
    created_at: str
    updated_at: str
    text: str = ""
    title_terms: set = field(default_factory=set)
    label_terms: set = field(default_factory=set)
    body_counts: dict = field(default_factory=dict)

    @property
    def language(self):
        return LANGUAGE[self.locale]

    @property
    def slug(self):
        return "-".join(re.findall(r"[A-Za-z0-9]+", fold(self.title).title()))[:80]


class HelpCenter:
    def __init__(self, data_dir: Path = DATA_DIR):
        self.articles = {}  # locale -> [Article]
        self.synonyms = {}  # language -> {stem: set of stems}
        for locale in LOCALES:
            self.articles[locale] = self._load(data_dir / f"{locale}.yml")
        for language, groups in SYNONYMS.items():
            table = {}
            for group in groups:
                stems = {stem(fold(word), language) for word in group.split()}
                for one in stems:
                    table.setdefault(one, set()).update(stems - {one})
            self.synonyms[language] = table

    @staticmethod
    def _load(path: Path) -> list:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        locale, sections = data["locale"], data["sections"]
        articles = []
        for position, item in enumerate(data["articles"]):
            article = Article(
                id=int(item["id"]),
                locale=locale,
                section_id=int(item["section_id"]),
                section_name=sections[item["section_id"]],
                title=item["title"].strip(),
                body=item["body"].strip(),
                label_names=list(item.get("labels", [])),
                position=position,
                created_at=item.get("created_at", data["created_at"]),
                updated_at=item.get("updated_at", data["updated_at"]),
            )
            language = article.language
            article.text = plain_text(article.body)
            article.title_terms = set(terms(article.title, language))
            article.label_terms = {t for label in article.label_names for t in terms(label.replace("_", " "), language)}
            for term in terms(article.text, language):
                article.body_counts[term] = article.body_counts.get(term, 0) + 1
            articles.append(article)
        return articles

    def get(self, locale: str, article_id: int):
        return next((a for a in self.articles.get(locale, []) if a.id == article_id), None)

    def search(self, query: str, locales, section_id=None, label_names=()) -> list:
        """[(score, article, matched stems)], best first; articles that match nothing are left out."""
        found = []
        for locale in locales:
            candidates = [
                a
                for a in self.articles.get(locale, [])
                if (section_id is None or a.section_id == section_id)
                and (not label_names or set(label_names) & set(a.label_names))
            ]
            found.extend(self._rank(query, candidates, LANGUAGE[locale]))
        found.sort(key=lambda hit: (-hit[0], hit[1].position))
        return found

    def _rank(self, query: str, articles: list, language: str) -> list:
        query_terms = list(dict.fromkeys(terms(query or "", language)))
        if not query_terms:  # filters only (section, labels): every candidate, in the help centre's order
            return [(0.0, article, set()) for article in articles]
        count = len(articles) or 1

        def idf(term):
            df = sum(1 for a in articles if term in a.title_terms or term in a.label_terms or term in a.body_counts)
            return math.log(1 + count / df) if df else 0.0

        def field_score(article, term):
            score = 3.0 * (term in article.title_terms) + 2.0 * (term in article.label_terms)
            tf = article.body_counts.get(term, 0)
            return score + (1 + math.log(tf) if tf else 0.0)

        hits = []
        for article in articles:
            total, covered, matched = 0.0, 0, set()
            for term in query_terms:
                variants = [(term, 1.0)] + [(s, 0.6) for s in self.synonyms[language].get(term, ())]
                best, best_term = 0.0, None
                for variant, weight in variants:
                    score = weight * idf(variant) * field_score(article, variant)
                    if score > best:
                        best, best_term = score, variant
                if best_term:
                    total, covered = total + best, covered + 1
                    matched.add(best_term)
                    matched.update(s for s, _ in variants if s in article.body_counts or s in article.title_terms)
            if total:
                hits.append((total * covered / len(query_terms), article, matched))
        return hits

    @staticmethod
    def snippet(article: Article, matched: set, width: int = 220) -> str:
        """The body sentence with the most matches, HTML-escaped, each matching word wrapped in <em>."""
        sentences = body_sentences(article.body, article.text, article.language)

        def hits(sentence_and_stems):
            """Distinct matched words first, then all matches, then the more informative (longer) sentence."""
            sentence, stems = sentence_and_stems
            found = [term for term in stems if term in matched]
            return len(set(found)), len(found), min(len(sentence), width)

        best = max(sentences, key=hits)[0] if matched else sentences[0][0]
        if len(best) > width:
            best = best[:width].rsplit(" ", 1)[0] + "…"
        out = []
        for piece in re.split(r"(\w+(?:-\w+)?)", best):
            word = fold(piece)
            if (
                piece
                and TOKEN.fullmatch(word or "-")
                and stem(word, article.language) in matched
                and word not in STOPWORDS[article.language]
            ):
                out.append(f"<em>{html.escape(piece, quote=False)}</em>")
            else:
                out.append(html.escape(piece, quote=False))
        return "".join(out)
