"""The portal's two languages: English, the templates' own words and the default, and French,
chosen when the browser's Accept-Language prefers it. A small catalog, not Babel: the portal has
a few hundred words, and a dict needs no compiled message files (no build step) while
`tests/unit/test_portal_i18n.py` checks that every word the templates use has its French."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"


def negotiate(accept_language: str | None) -> str:
    """The language the browser prefers among ours: `fr-FR,fr;q=0.9,en;q=0.8` is French,
    `en-GB,fr;q=0.5` English, anything else (or nothing) English."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for entry in (accept_language or "").split(","):
        tag, _, parameters = entry.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # The first of equal weights wins: a later entry must weigh strictly more.
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q
    return best


def N_(message: str) -> str:  # the conventional name that extractors look for
    """Marks a word for translation where it is defined; translated where it is shown."""
    return message


# The portal's vocabulary (PRODUCT.md section 2), shown through `word` in the templates.
WORDS = {
    # charge point statuses
    "Available": N_("Available"),
    "NotAvailable": N_("Not available"),
    "Preparing": N_("Preparing"),
    "Unknown": N_("Unknown"),
    "Charging": N_("Charging"),
    "Finishing": N_("Finishing"),
    "SuspendedEV": N_("Suspended by the vehicle"),
    "SuspendedEVSE": N_("Suspended by the charger"),
    "Reserved": N_("Reserved"),
    "Failed": N_("Failed"),
    # site states (Available and Unknown as above)
    "Load": N_("Load"),
    # station connection
    "Connected": N_("Connected"),
    "Disconnected": N_("Disconnected"),
    # session states
    "Active": N_("Active"),
    "Completed": N_("Completed"),
    # how a session was authorized
    "rfid": N_("RFID card"),
    "roaming": N_("Roaming"),
    "scan2pay": N_("Scan2Pay"),
    # roaming sessions (OCPI)
    "ACTIVE": N_("Active"),
    "COMPLETED": N_("Completed"),
}

Translation = str | tuple[str, str]  # a plural: (one, many)

FRENCH: Mapping[str, Translation] = {
    # layout and sign-in
    "Skip to content": "Aller au contenu",
    "Main menu": "Menu principal",
    "My sites": "Mes sites",
    "Analytics": "Analyses",
    "Roaming activity (30 days)": "Activité roaming (30 jours)",
    "Sign out": "Se déconnecter",
    "Sign in": "Se connecter",
    "Sign in to the portal": "Connexion au portail",
    "Organization API key": "Clé d'API de l'organisation",
    "The key your operator gave your organization. It is kept in this browser until you sign out.": (
        "La clé que votre opérateur a remise à votre organisation. Elle est conservée dans ce"
        " navigateur jusqu'à la déconnexion."
    ),
    "This API key is not known.": "Cette clé d'API est inconnue.",
    "You have signed out.": "Vous êtes déconnecté.",
    "Your session has ended: sign in again.": "Votre session a pris fin : reconnectez-vous.",
    "Charge point management portal": "Portail de gestion des points de charge",
    # errors
    "Page not found": "Page introuvable",
    "Temporarily unavailable": "Momentanément indisponible",
    "The portal cannot read its data right now. Try again in a few seconds.": (
        "Le portail ne peut pas lire ses données pour le moment. Réessayez dans quelques secondes."
    ),
    "This form has expired. Go back, reload the page and try again.": (
        "Ce formulaire a expiré. Revenez en arrière, rechargez la page et réessayez."
    ),
    "Forbidden": "Interdit",
    "Bad request": "Requête invalide",
    "Back to my sites": "Retour à mes sites",
    # the vocabulary
    "Available": "Disponible",
    "Not available": "Indisponible",
    "Preparing": "En préparation",
    "Unknown": "Inconnu",
    "Charging": "En charge",
    "Finishing": "Fin de charge",
    "Suspended by the vehicle": "Suspendu par le véhicule",
    "Suspended by the charger": "Suspendu par la borne",
    "Reserved": "Réservé",
    "Failed": "En défaut",
    "Load": "Occupé",
    "Connected": "Connecté",
    "Disconnected": "Déconnecté",
    "Active": "En cours",
    "Completed": "Terminée",
    "RFID card": "Badge RFID",
    "Roaming": "Roaming",
    "Scan2Pay": "Scan2Pay",
    # my sites
    "No site yet.": "Aucun site pour l'instant.",
    "Site": "Site",
    "Address": "Adresse",
    "State": "État",
    "Provider": "Fournisseur",
    "Updated": "Mis à jour",
    "Created": "Créé",
    "Next page": "Page suivante",
    "First page": "Première page",
    # a site's tabs
    "Site pages": "Pages du site",
    "Overview": "Vue d'ensemble",
    "Sheet": "Points de charge",
    "Configuration": "Configuration",
    "Sessions": "Sessions",
    "EVSE controllers": "Contrôleurs EVSE",
    # overview
    "Charge points by status": "Points de charge par statut",
    "No charge point yet: commission a station on this site.": (
        "Aucun point de charge : mettez une borne en service sur ce site."
    ),
    "Coordinates": "Coordonnées",
    "Tariff": "Tarif",
    "%(price)s %(currency)s per kWh excluding VAT, VAT %(vat)s %%": (
        "%(price)s %(currency)s par kWh HT, TVA %(vat)s %%"
    ),
    "none": "aucun",
    # sheet
    "Charge point %(number)s": "Point de charge %(number)s",
    "since": "depuis",
    "Error: %(code)s": "Erreur : %(code)s",
    "Statuses update live, without reloading the page.": (
        "Les statuts se mettent à jour en direct, sans recharger la page."
    ),
    "Live updates paused; reconnecting…": "Mises à jour en direct interrompues ; reconnexion…",
    "%(station)s, charge point %(number)s: %(status)s": (
        "%(station)s, point de charge %(number)s : %(status)s"
    ),
    "Station %(station)s": "Borne %(station)s",
    # configuration
    "Stations": "Bornes",
    "No station on this site yet.": "Aucune borne sur ce site pour l'instant.",
    "Access groups allowed to charge": "Groupes d'accès autorisés à charger",
    "No access group yet: create one below.": "Aucun groupe d'accès : créez-en un ci-dessous.",
    "Roaming enabled": "Roaming activé",
    "Scan2Pay enabled": "Scan2Pay activé",
    "Save": "Enregistrer",
    "Saved.": "Enregistré.",
    "Could not save: %(reason)s": "Enregistrement impossible : %(reason)s",
    "Access groups": "Groupes d'accès",
    "Access groups and their cards belong to the organization: a change here applies to every site.": (
        "Les groupes d'accès et leurs badges appartiennent à l'organisation : une modification"
        " ici vaut pour tous les sites."
    ),
    "Cards": "Badges",
    "Card UID": "UID du badge",
    "Label": "Libellé",
    "Added": "Ajouté",
    "Remove": "Retirer",
    "Remove card %(uid)s": "Retirer le badge %(uid)s",
    "Add a card": "Ajouter un badge",
    "Add": "Ajouter",
    "No card in this group.": "Aucun badge dans ce groupe.",
    "New access group": "Nouveau groupe d'accès",
    "Name": "Nom",
    "Create": "Créer",
    "%(num)s card": ("%(num)s badge", "%(num)s badges"),
    # sessions
    "Filters": "Filtres",
    "Started from": "Démarrées à partir du",
    "Started before": "Démarrées avant le",
    "Any": "Tous",
    "Apply": "Appliquer",
    "Export CSV": "Exporter en CSV",
    "No session matches.": "Aucune session ne correspond.",
    "Started": "Début",
    "Ended": "Fin",
    "Station": "Borne",
    "Charge point": "Point de charge",
    "EVSE ID": "Identifiant EVSE",
    "Card": "Badge",
    "Energy": "Énergie",
    "Duration": "Durée",
    "Stop reason": "Motif d'arrêt",
    "Session details": "Détails de la session",
    "Session": "Session",
    "Transaction": "Transaction",
    "Authorization": "Autorisation",
    "Access group": "Groupe d'accès",
    "Roaming partner": "Partenaire roaming",
    "Payment reference": "Référence de paiement",
    "Meter at start": "Compteur au début",
    "Meter at stop": "Compteur à la fin",
    "so far": "jusqu'ici",
    "Back to the sessions": "Retour aux sessions",
    # EVSE controllers
    "Serial number": "Numéro de série",
    "OCPP identity": "Identité OCPP",
    "EVSE identities": "Identités EVSE",
    "Connection": "Connexion",
    "Plan": "Offre",
    "Vendor and model": "Fabricant et modèle",
    "Firmware": "Micrologiciel",
    "Last seen": "Dernier contact",
    "OCPP version": "Version OCPP",
    "never": "jamais",
    "Availability": "Disponibilité",
    "Deactivate temporarily": "Désactiver temporairement",
    "Reactivate": "Réactiver",
    "The station accepted.": "La borne a accepté.",
    "The station refused.": "La borne a refusé.",
    "The station could not carry it out.": "La borne n'a pas pu l'exécuter.",
    "The station is not connected: nothing was sent.": "La borne n'est pas connectée : rien n'a été envoyé.",
    "The station did not answer in time.": "La borne n'a pas répondu à temps.",
    "Commands cannot reach stations from this server.": (
        "Les commandes ne peuvent pas atteindre les bornes depuis ce serveur."
    ),
    # analytics
    "From": "Du",
    "To (excluded)": "Au (exclu)",
    "Bucket": "Période",
    "Day": "Jour",
    "Week": "Semaine",
    "Month": "Mois",
    "Time zone": "Fuseau horaire",
    "All sites": "Tous les sites",
    "Show": "Afficher",
    "Sessions started": "Sessions démarrées",
    "Energy (kWh)": "Énergie (kWh)",
    "Charging time (hours)": "Durée de charge (heures)",
    "Duration of completed sessions": "Durée des sessions terminées",
    "Completed sessions": "Sessions terminées",
    "Totals": "Totaux",
    "Mean duration": "Durée moyenne",
    "The data behind the charts": "Les données des graphiques",
    "Period": "Période",
    "Loading…": "Chargement…",
    "The analytics could not be loaded: %(reason)s": "Les analyses n'ont pas pu être chargées : %(reason)s",
    "Analytics are not available on this server yet.": (
        "Les analyses ne sont pas encore disponibles sur ce serveur."
    ),
    "The charts need JavaScript.": "Les graphiques nécessitent JavaScript.",
    "Sessions, energy and duration over time": "Sessions, énergie et durée dans le temps",
    # roaming
    "Roaming partners": "Partenaires roaming",
    "Since %(day)s (UTC days)": "Depuis le %(day)s (jours UTC)",
    "No roaming in the last 30 days.": "Aucune activité roaming ces 30 derniers jours.",
    "Partner": "Partenaire",
    "Accepted": "Acceptées",
    "Rejected": "Refusées",
    "Timed out": "Sans réponse",
    "Errors": "Erreurs",
    "By day": "Par jour",
    "Roaming sessions": "Sessions roaming",
    "Token": "Jeton",
    "Status": "Statut",
}


@dataclass(frozen=True)
class Catalog:
    """gettext and ngettext over one language's translations (English is the identity)."""

    language: str
    translations: Mapping[str, Translation]

    def gettext(self, message: str) -> str:
        found = self.translations.get(message, message)
        return found if isinstance(found, str) else found[0]

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.translations.get(singular)
        if found is None:
            return singular if n == 1 else plural
        one, many = (found, found) if isinstance(found, str) else found
        # French takes the singular for 0 and 1; English only for 1.
        return one if n in ((0, 1) if self.language == "fr" else (1,)) else many


CATALOGS = {"en": Catalog("en", {}), "fr": Catalog("fr", FRENCH)}
