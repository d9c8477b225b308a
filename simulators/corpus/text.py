"""Vocabulary of the synthetic LHEO corpus: domains, language offers, names and phrases.

Everything here is plain data read by :mod:`simulators.corpus.records`. All strings stay within
Latin-1 (``oe`` rather than the ligature, no typographic apostrophes, no euro sign) so that a
corpus can be written in ISO-8859-1 like several regional exports still are.

Provenance of the codes: the Certif Info codes come from the 2020 Certif Info snapshot and its
French-language subset shipped in the reference dictionaries; the FORMACODE codes of language and
basic-skills offers and the public-visé codes come from the FORMACODE V14 extracts. The FORMACODE,
NSF, ROME and RNCP codes of the vocational domains are representative values chosen for realism;
they are not checked against the current thesauri and must not be used as reference data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Certif:
    """A certification a vocational formation can lead to."""

    intitule: str
    certifinfo: str
    rncp: str | None
    niveau: int
    """Level in the 2019 nomenclature (3 = CAP, 4 = bac, 5 = bac+2...); 0 for habilitations."""


@dataclass(frozen=True, slots=True)
class Domaine:
    """A vocational training domain and the words used to describe its offers."""

    metier: str
    formacodes: tuple[str, ...]
    nsf: str
    romes: tuple[str, ...]
    certifications: tuple[Certif, ...]
    courtes: tuple[str, ...]
    """Titles of short, non-certifying courses of the domain."""
    modules: tuple[str, ...]
    competences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OffreLangue:
    """A kind of French-language or basic-skills offer (FLE, ASL, OEPRE, OFII...)."""

    dispositif: str
    intitules: tuple[str, ...]
    """Titles; ``{niveau}`` is replaced by a CEFR level."""
    formacodes: tuple[str, ...]
    nsf: str
    publics: tuple[str, ...]
    certifinfo: tuple[str, ...]
    financeurs_22: tuple[str, ...]
    financeurs_23: tuple[str, ...]
    objectif_general: str
    heures: tuple[int, int]
    modules: tuple[str, ...]
    competences: tuple[str, ...]


def _c(intitule: str, certifinfo: str, rncp: str | None, niveau: int) -> Certif:
    return Certif(intitule, certifinfo, rncp, niveau)


DOMAINES: tuple[Domaine, ...] = (
    Domaine(
        "agent de propreté et d'hygiène",
        ("42054", "42031"),
        "343",
        ("K2204",),
        (_c("Titre professionnel agent de propreté et d'hygiène", "99291", "1172", 3),),
        ("Techniques de nettoyage en milieu hospitalier", "Utilisation de l'autolaveuse"),
        ("Protocoles de nettoyage", "Produits et matériels", "Hygiène et bionettoyage"),
        ("réaliser une prestation de nettoyage manuel", "utiliser une machine de nettoyage"),
    ),
    Domaine(
        "aide-soignant",
        ("43436",),
        "331",
        ("J1501",),
        (_c("Diplôme d'État d'aide-soignant", "54913", "35830", 4),),
        ("Préparation au concours d'aide-soignant", "Gestes et soins d'urgence niveau 2"),
        ("Accompagnement de la personne", "Soins d'hygiène et de confort", "Transmissions"),
        (
            "accompagner une personne dans les activités de sa vie quotidienne",
            "évaluer l'état clinique d'une personne",
        ),
    ),
    Domaine(
        "assistant de vie aux familles",
        ("44028", "42002"),
        "330",
        ("K1302", "K1303"),
        (
            _c("Titre professionnel assistant(e) de vie aux familles", "88309", "4821", 3),
            _c("Diplôme d'État d'accompagnant éducatif et social", "87185", "36004", 3),
        ),
        ("Prévention des risques liés à l'activité physique", "Accompagner la fin de vie"),
        ("Entretien du logement", "Accompagnement des personnes", "Relais parental"),
        (
            "entretenir le logement et le linge d'un particulier",
            "accompagner la personne dans ses actes essentiels du quotidien",
        ),
    ),
    Domaine(
        "auxiliaire de puériculture",
        ("43441",),
        "331",
        ("J1304",),
        (_c("Diplôme d'État d'auxiliaire de puériculture", "54917", "35832", 4),),
        ("Préparation aux épreuves de sélection auxiliaire de puériculture",),
        ("Développement de l'enfant", "Soins au nouveau-né", "Relation avec les familles"),
        ("accompagner l'enfant dans les activités de sa vie quotidienne",),
    ),
    Domaine(
        "accompagnant éducatif petite enfance",
        ("42866",),
        "332",
        ("K1303", "K2104"),
        (_c("CAP accompagnant éducatif petite enfance", "95009", "28048", 3),),
        ("Éveil et activités du jeune enfant",),
        ("Sécurité et hygiène du jeune enfant", "Activités d'éveil", "Cadre réglementaire"),
        ("accompagner le développement du jeune enfant", "exercer son activité en EAJE"),
    ),
    Domaine(
        "développeur web et web mobile",
        ("31054", "31068"),
        "326",
        ("M1805",),
        (_c("Titre professionnel développeur web et web mobile", "100809", "31114", 5),),
        ("Initiation à JavaScript", "Développer avec Python", "Conception d'interfaces web"),
        ("Front-end", "Back-end", "Bases de données", "Méthodes agiles", "Sécurité web"),
        (
            "développer la partie front-end d'une application web",
            "développer la partie back-end d'une application web",
        ),
    ),
    Domaine(
        "technicien d'assistance en informatique",
        ("31006", "24231"),
        "326",
        ("I1401", "M1810"),
        (
            _c("Titre professionnel technicien d'assistance en informatique", "100833", "1859", 4),
            _c("BTS services informatiques aux organisations", "106519", "35340", 5),
        ),
        ("Administration Windows Server", "Bases des réseaux TCP/IP", "Cybersécurité"),
        ("Poste de travail", "Réseaux", "Support utilisateur", "Virtualisation"),
        ("mettre en service des équipements numériques", "assister les utilisateurs"),
    ),
    Domaine(
        "secrétaire assistant",
        ("35054", "35028"),
        "324",
        ("M1607", "M1602"),
        (
            _c("Titre professionnel secrétaire assistant", "99145", "193", 4),
            _c("Titre professionnel secrétaire assistant médico-social", "56315", "5885", 4),
            _c("Titre professionnel employé administratif et d'accueil", "100811", "1195", 3),
        ),
        ("Bureautique : Word et Excel perfectionnement", "Accueil physique et téléphonique"),
        ("Traitement de texte", "Tableur", "Gestion administrative", "Accueil"),
        (
            "assister une équipe dans la communication des informations",
            "traiter les opérations administratives liées à la gestion commerciale",
        ),
    ),
    Domaine(
        "comptable assistant",
        ("32663", "32654"),
        "314",
        ("M1203",),
        (
            _c("Titre professionnel comptable assistant", "99153", "5923", 4),
            _c("Titre professionnel gestionnaire de paie", "82687", "35123", 5),
        ),
        ("Initiation à la comptabilité", "Logiciel de paie", "Clôture des comptes"),
        ("Comptabilité générale", "Déclarations fiscales", "Paie", "Logiciels comptables"),
        ("assurer les travaux courants de comptabilité", "préparer la paie"),
    ),
    Domaine(
        "employé commercial en magasin",
        ("34566", "34588"),
        "312",
        ("D1507", "D1505", "D1106"),
        (
            _c("Titre professionnel employé(e) commercial(e) en magasin", "83079", "6174", 3),
            _c("BTS management commercial opérationnel", "104239", "34031", 5),
        ),
        ("Techniques de vente en magasin", "Tenue de caisse", "Merchandising"),
        ("Approvisionnement", "Accueil client", "Encaissement", "Gestion des stocks"),
        ("approvisionner un rayon ou un point de vente", "accueillir et servir les clients"),
    ),
    Domaine(
        "cariste d'entrepôt",
        ("31812", "31795"),
        "311",
        ("N1101", "N1103"),
        (
            _c("Titre professionnel cariste d'entrepôt", "84242", "36029", 3),
            _c("Titre professionnel agent magasinier", "102923", "34860", 3),
            _c("CACES R489 chariots élévateurs catégorie 3", "106699", None, 0),
            _c("CACES R489 chariots élévateurs catégorie 5", "106703", None, 0),
        ),
        ("Préparation de commandes", "Gestes et postures", "Logistique et WMS"),
        ("Réception", "Stockage", "Préparation de commandes", "Sécurité en entrepôt"),
        ("conduire un chariot en sécurité", "préparer des commandes"),
    ),
    Domaine(
        "conducteur du transport routier de marchandises",
        ("31811", "31834"),
        "311",
        ("N4101", "N4105"),
        (
            _c(
                "Titre professionnel conducteur du transport routier de marchandises sur porteur",
                "103807",
                "35293",
                3,
            ),
            _c("FIMO transport de marchandises", "84554", None, 0),
        ),
        ("FIMO marchandises", "FCO marchandises", "Éco-conduite"),
        ("Réglementation sociale", "Conduite rationnelle", "Chargement et arrimage"),
        ("réaliser en sécurité des opérations de transport", "effectuer des livraisons"),
    ),
    Domaine(
        "maçon",
        ("22454", "22411"),
        "232",
        ("F1703",),
        (
            _c("Titre professionnel maçon", "87137", "35283", 3),
            _c("Titre professionnel maçon en voirie et réseaux divers", "103767", "1866", 3),
        ),
        ("Lecture de plans", "Travail en hauteur et échafaudages"),
        ("Coffrage", "Ferraillage", "Maçonnerie de blocs", "Enduits"),
        ("réaliser des ouvrages en maçonnerie", "construire des ouvrages en béton armé"),
    ),
    Domaine(
        "électricien d'équipement du bâtiment",
        ("24049", "22252"),
        "255",
        ("F1602",),
        (
            _c("Titre professionnel électricien d'équipement du bâtiment", "100431", "31883", 3),
            _c("Habilitation électrique B1V exécutant électricien", "65942", None, 0),
        ),
        ("Habilitation électrique BS BE manoeuvre", "Photovoltaïque : installation"),
        ("Installations électriques", "Schémas", "Réseaux de communication", "Normes NF C"),
        ("réaliser les installations électriques des bâtiments", "installer des réseaux"),
    ),
    Domaine(
        "peintre en bâtiment",
        ("22294", "22276"),
        "233",
        ("F1606",),
        (
            _c("Titre professionnel peintre en bâtiment", "98649", "1848", 3),
            _c("Titre professionnel plaquiste-plâtrier", "100029", "1849", 3),
        ),
        ("Revêtements muraux", "Isolation thermique par l'intérieur"),
        ("Préparation des supports", "Mise en peinture", "Revêtements de sols et murs"),
        ("réaliser des travaux de peinture", "poser des revêtements muraux"),
    ),
    Domaine(
        "soudeur",
        ("23684", "23693"),
        "254",
        ("H2913",),
        (_c("Titre professionnel soudeur(se)", "83970", "1836", 3),),
        ("Soudage TIG sur acier inoxydable", "Soudage semi-automatique MAG"),
        ("Lecture de plans", "Procédés de soudage", "Contrôle qualité"),
        ("souder à plat des ensembles de tôlerie", "souder en toutes positions"),
    ),
    Domaine(
        "cuisinier",
        ("42752", "21538"),
        "221",
        ("G1602", "G1603"),
        (
            _c("Titre professionnel cuisinier", "106425", "34807", 3),
            _c("CAP cuisine", "88543", "26650", 3),
        ),
        ("Hygiène alimentaire HACCP", "Cuisine traditionnelle perfectionnement"),
        ("Techniques culinaires", "Hygiène HACCP", "Approvisionnement", "Dressage"),
        ("préparer, cuire et dresser des plats", "organiser la production culinaire"),
    ),
    Domaine(
        "serveur en restauration",
        ("42780", "42758"),
        "334",
        ("G1803",),
        (
            _c("Titre professionnel serveur en restauration", "106885", "5918", 3),
            _c("CAP commercialisation et services en hôtel-café-restaurant", "94559", "26993", 3),
        ),
        ("Service en salle", "Anglais de la restauration"),
        ("Mise en place", "Service des mets et boissons", "Relation client", "Bar"),
        ("réaliser les travaux préalables au service", "servir des mets et des boissons"),
    ),
    Domaine(
        "agent de sûreté et de sécurité privée",
        ("42852", "42826"),
        "344",
        ("K2503",),
        (
            _c("Titre professionnel agent de sûreté et de sécurité privée", "106877", "34054", 4),
            _c("CAP agent de sécurité", "68986", "697", 3),
            _c("Certificat de sauveteur secouriste du travail (SST)", "72134", None, 0),
            _c("SSIAP 1 - agent de service de sécurité incendie", "55515", None, 0),
        ),
        ("Maintien et actualisation des compétences APS", "SSIAP 1", "Sauveteur secouriste"),
        ("Cadre juridique", "Prévention des risques", "Secourisme", "Surveillance"),
        ("assurer la sûreté des biens et des personnes", "prévenir les risques d'incendie"),
    ),
    Domaine(
        "ouvrier du paysage",
        ("21046", "21047"),
        "214",
        ("A1203",),
        (_c("Titre professionnel ouvrier du paysage", "106439", "35199", 3),),
        ("Taille des arbres fruitiers", "Gestion différenciée des espaces verts"),
        ("Entretien des espaces verts", "Maçonnerie paysagère", "Végétaux", "Arrosage"),
        ("entretenir des espaces verts", "réaliser des aménagements paysagers"),
    ),
    Domaine(
        "coiffeur",
        ("42154", "42133"),
        "336",
        ("D1202", "D1208"),
        (
            _c("CAP coiffure", "54649", "35194", 3),
            _c("CAP esthétique cosmétique parfumerie", "102869", "35127", 3),
        ),
        ("Coupe homme et barbe", "Techniques de coloration"),
        ("Coupe", "Coiffage", "Couleur", "Relation clientèle"),
        ("réaliser des coupes et des coiffages", "conseiller la clientèle"),
    ),
    Domaine(
        "mécanicien automobile",
        ("23654", "31828"),
        "252",
        ("I1604",),
        (_c("CAP maintenance des véhicules option voitures particulières", "82940", "663", 3),),
        ("Diagnostic électronique automobile", "Véhicules électriques et hybrides"),
        ("Moteur", "Transmission", "Freinage", "Électricité embarquée"),
        ("réaliser la maintenance préventive des véhicules", "diagnostiquer une panne"),
    ),
    Domaine(
        "conseiller en insertion professionnelle",
        ("44591", "44548"),
        "332",
        ("K1801", "K2111"),
        (
            _c("Titre professionnel conseiller en insertion professionnelle", "99285", "4503", 5),
            _c("Titre professionnel formateur professionnel d'adultes", "99289", "247", 5),
        ),
        ("Conduite d'entretien", "Animation de groupe", "Ingénierie pédagogique"),
        ("Accueil et diagnostic", "Accompagnement", "Relations entreprises", "Réseaux"),
        ("accompagner des personnes dans leur parcours d'insertion", "animer des ateliers"),
    ),
    Domaine(
        "responsable de petite et moyenne structure",
        ("32047", "32012"),
        "310",
        ("M1302", "M1503"),
        (
            _c(
                "Titre professionnel responsable de petite et moyenne structure",
                "93799",
                "32288",
                5,
            ),
            _c("Titre professionnel négociateur technico-commercial", "104489", "34079", 5),
        ),
        ("Créer son entreprise", "Gestion financière pour non-financiers", "Management"),
        ("Gestion", "Management d'équipe", "Développement commercial", "Droit social"),
        ("piloter les activités d'une structure", "manager une équipe"),
    ),
)

_FLE_CERTIFS = ("46907", "76101", "46908", "76102", "68844", "84854", "90241", "90249")

OFFRES_LANGUE: tuple[OffreLangue, ...] = (
    OffreLangue(
        "FLE",
        (
            "Français langue étrangère - niveau {niveau}",
            "FLE - Communication orale et écrite {niveau}",
            "Cours de français langue étrangère (FLE) {niveau}",
            "Préparation au DELF {niveau}",
        ),
        ("15235",),
        "136",
        ("81022", "81023", "81042", "83056", "80006"),
        _FLE_CERTIFS,
        ("2", "4", "9", "10", "3"),
        ("2", "4", "9", "10", "3"),
        "5",
        (60, 400),
        ("Compréhension orale", "Expression orale", "Compréhension écrite", "Production écrite"),
        (
            "se présenter et parler de soi",
            "comprendre des documents de la vie quotidienne",
            "rédiger un message simple",
        ),
    ),
    OffreLangue(
        "FLE-PRO",
        (
            "Français à visée professionnelle - niveau {niveau}",
            "FLE professionnel - secteur du bâtiment",
            "Français langue étrangère et métiers du soin {niveau}",
        ),
        ("15235", "15040"),
        "136",
        ("80006", "82060", "81022", "82044"),
        ("68844", "68846", "76105", "76106", "76107", "76108"),
        ("2", "4", "16", "3"),
        ("2", "4", "16", "3"),
        "5",
        (80, 350),
        ("Français du poste de travail", "Consignes de sécurité", "Écrits professionnels"),
        ("comprendre les consignes de travail", "communiquer avec les collègues et les clients"),
    ),
    OffreLangue(
        "ASL",
        (
            "Atelier sociolinguistique (ASL)",
            "ASL - Ateliers sociolinguistiques vers l'emploi",
            "Ateliers sociolinguistiques - vie quotidienne et citoyenneté",
        ),
        ("15235", "15031"),
        "415",
        ("81022", "81018", "83056", "81023"),
        (),
        ("9", "8", "15", "0"),
        ("9", "8", "15", "0"),
        "5",
        (40, 200),
        ("Espaces sociaux", "Santé", "Transports", "École", "Services publics"),
        ("utiliser les services publics", "se repérer dans son environnement"),
    ),
    OffreLangue(
        "OEPRE",
        (
            "OEPRE - Ouvrir l'école aux parents pour la réussite des enfants",
            "Ouvrir l'École aux Parents - français et fonctionnement de l'école",
        ),
        ("15235",),
        "415",
        ("81022", "81023", "81018"),
        (),
        ("12", "13"),
        ("12", "13"),
        "5",
        (60, 120),
        ("Langue française", "Fonctionnement de l'école", "Valeurs de la République"),
        ("suivre la scolarité de ses enfants", "communiquer avec l'équipe éducative"),
    ),
    OffreLangue(
        "OFII",
        (
            "Formation linguistique OFII - Contrat d'intégration républicaine {niveau}",
            "Parcours linguistique CIR - niveau {niveau}",
            "Formation linguistique du contrat d'intégration républicaine ({niveau})",
        ),
        ("15235",),
        "136",
        ("81023", "81042", "81022"),
        ("46907", "76101", "90249"),
        ("13",),
        ("20", "19", "20"),
        "5",
        (100, 600),
        ("Vie pratique", "Vie publique", "Vie professionnelle", "Valeurs de la République"),
        (
            "communiquer dans les situations de la vie courante",
            "accomplir les démarches administratives",
        ),
    ),
    OffreLangue(
        "ALPHA",
        (
            "Alphabétisation - savoirs de base",
            "Alphabétisation et initiation à l'écrit",
            "Atelier alphabétisation adultes",
        ),
        ("15043",),
        "412",
        ("81021", "81022", "83056"),
        (),
        ("2", "9", "6"),
        ("2", "9", "19"),
        "5",
        (60, 300),
        ("Graphisme", "Lecture", "Écriture", "Numération"),
        ("entrer dans l'écrit", "lire et écrire des mots usuels"),
    ),
    OffreLangue(
        "ILLETTRISME",
        (
            "Lutte contre l'illettrisme - compétences clés",
            "Savoirs de base et remise à niveau",
            "Compétences clés : français et calcul",
            "Préparation à la certification CléA",
        ),
        ("15022", "15040", "15030"),
        "412",
        ("81019", "80006", "82044", "83056"),
        ("84482", "103323", "84714"),
        ("2", "4", "11", "16"),
        ("2", "4", "11", "16"),
        "5",
        (40, 250),
        ("Communication écrite", "Calcul", "Numérique", "Apprendre à apprendre"),
        ("consolider ses savoirs de base", "gagner en autonomie à l'écrit"),
    ),
)

NIVEAUX_CECRL = ("A1", "A1", "A2", "A2", "B1", "B2")

DELF_PAR_NIVEAU = {"A1": "46907", "A2": "76101", "B1": "46908", "B2": "76102"}
"""Certif Info code of the DELF of each CEFR level."""

PRENOMS_FEMININS = (
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Sophie",
    "Sandrine",
    "Christine",
    "Céline",
    "Aurélie",
    "Julie",
    "Camille",
    "Fatima",
    "Nadia",
    "Aïcha",
    "Léa",
    "Chloé",
    "Hélène",
    "Gaëlle",
    "Noémie",
    "Awa",
    "Émilie",
)

PRENOMS_MASCULINS = (
    "Jean",
    "Pierre",
    "Michel",
    "Philippe",
    "Alain",
    "Nicolas",
    "Christophe",
    "Laurent",
    "Thomas",
    "Julien",
    "Karim",
    "Mohamed",
    "Mamadou",
    "Éric",
    "Frédéric",
    "Stéphane",
    "Olivier",
    "Hugo",
    "Jérôme",
    "Sébastien",
    "Yannick",
    "François",
)

PRENOMS = PRENOMS_FEMININS + PRENOMS_MASCULINS

NOMS = (
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Benali",
    "Diallo",
    "Nguyen",
    "Le Gall",
    "Kerbrat",
    "Hoarau",
    "Payet",
    "Ferreira",
)

TYPES_VOIE = (
    "rue",
    "rue",
    "rue",
    "avenue",
    "boulevard",
    "place",
    "allée",
    "chemin",
    "impasse",
    "quai",
    "route",
    "cours",
)

NOMS_VOIE = (
    "de la République",
    "Jean Jaurès",
    "Victor Hugo",
    "du Général de Gaulle",
    "Pasteur",
    "des Écoles",
    "de la Gare",
    "Gambetta",
    "Jean Moulin",
    "de Verdun",
    "du Moulin",
    "des Tilleuls",
    "Émile Zola",
    "Voltaire",
    "Anatole France",
    "de Paris",
    "Nationale",
    "du 8 Mai 1945",
    "Louis Pasteur",
    "Marcel Cachin",
    "de l'Industrie",
    "des Lilas",
    "Jules Ferry",
    "de la Liberté",
    "Aristide Briand",
    "du Stade",
    "des Artisans",
    "Pierre et Marie Curie",
    "Georges Clemenceau",
    "Paul Vaillant-Couturier",
    "de l'Église",
    "des Prés",
    "Condorcet",
    "Saint-Exupéry",
    "de la Mairie",
    "Alsace-Lorraine",
)

COMPLEMENTS_ADRESSE = (
    "Bâtiment B",
    "2e étage",
    "Zone d'activités des Portes",
    "Parc d'activités du Moulin",
    "Immeuble Le Carré",
    "Espace Formation",
    "Centre commercial",
    "Cité administrative",
    "Campus des métiers",
    "Porte 3",
)

ORGANISMES_METIER = (
    "GRETA {ville}",
    "AFPA {ville}",
    "CFA {secteur} {ville}",
    "Institut de formation {ville}",
    "CCI {ville} Formation",
    "Centre de formation {secteur}",
    "{sigle} Formation",
    "{sigle} {ville}",
    "Lycée professionnel {personne}",
    "{sigle} {secteur}",
    "École des métiers {ville}",
    "Formation continue Université de {ville}",
)

SECTEURS = (
    "BTP",
    "Santé",
    "Industrie",
    "Commerce",
    "Hôtellerie-Restauration",
    "Transport Logistique",
    "Numérique",
    "Services à la personne",
    "Propreté",
    "Sécurité",
    "Paysage",
    "Automobile",
    "Tertiaire",
    "Sanitaire et Social",
)

ORGANISMES_LANGUE = (
    "Association Alpha {ville}",
    "Centre social {personne}",
    "Maison des langues de {ville}",
    "Alliance française {ville}",
    "{sigle} Langues et Cultures",
    "Accueil Formation {ville}",
    "Espace Solidarité Formation",
    "Association Lire et Écrire {ville}",
    "GRETA {ville}",
    "{sigle} Insertion",
    "Centre interculturel {ville}",
)

FORMES_JURIDIQUES = ("", "", "SAS ", "SARL ", "Association ", "SCOP ")

SIGLES = (
    "IFCO",
    "ADEF",
    "CEFIR",
    "IRFA",
    "AFEC",
    "INFREP",
    "ACTIF",
    "CIBC",
    "ARFOG",
    "ISFORM",
    "CREPI",
    "ADAF",
    "AXE",
    "PROFORM",
    "EFIA",
    "ALPES",
    "ASTI",
    "ARIFA",
    "CEPAG",
    "IFAC",
)

DOMAINES_WEB = ("fr", "fr", "org", "com", "asso.fr")

RYTHMES = (
    "Temps plein",
    "Temps plein",
    "Temps partiel",
    "Continu temps plein, Modulaire",
    "En journée",
    "Cours du soir",
    "Discontinu, temps partiel",
    "En semaine, 35 h par semaine",
    "Temps plein, en alternance",
    "Samedi matin",
)

RYTHMES_LANGUE = (
    "Temps partiel, 2 demi-journées par semaine",
    "Temps partiel, 12 h par semaine",
    "En journée, hors vacances scolaires",
    "Discontinu, 2 h par séance",
    "Cours du soir",
    "Temps plein, 30 h par semaine",
)

MODALITES_ALTERNANCE = (
    "-",
    "Aucune",
    "Non concerné",
    "Stage en entreprise de 3 semaines",
    "2 semaines en centre, 2 semaines en entreprise",
    "Formation en alternance : 3 jours en entreprise, 2 jours en centre",
    "Période de formation en milieu professionnel de 140 heures",
)

CONDITIONS_SPECIFIQUES = (
    "Aucune",
    "-",
    "Être inscrit comme demandeur d'emploi",
    "Maîtrise des savoirs de base",
    "Visite médicale d'aptitude obligatoire",
    "Niveau A2 à l'oral recommandé",
    "Permis B souhaité",
    "Projet professionnel validé",
    "Avoir 18 ans au moins",
    "Être en situation régulière sur le territoire",
)

INFO_PUBLIC = (
    "Tout public",
    "Demandeurs d'emploi et salariés",
    "Jeunes de 16 à 25 ans",
    "Personnes étrangères primo-arrivantes",
    "Salariés en reconversion",
    "Bénéficiaires du RSA et publics en insertion",
    "Public non francophone",
)

RESTAURATION = (
    "Restaurant d'entreprise à proximité",
    "Possibilité de restauration sur place",
    "Salle de pause équipée",
    "Pas de restauration sur place",
)
HEBERGEMENT = ("Foyer de jeunes travailleurs à proximité", "Pas d'hébergement", "Internat possible")
TRANSPORT = (
    "Accès bus et tramway",
    "Gare SNCF à 10 minutes à pied",
    "Parking gratuit",
    "Métro à proximité",
    "Ligne de bus régulière",
)
ACCES_HANDICAPES = (
    "Locaux accessibles aux personnes à mobilité réduite",
    "Accès handicapé possible",
    "Référent handicap disponible sur demande",
    "Accessible PMR, nous contacter pour les adaptations",
)

MODALITES_RECRUTEMENT = (
    "Information collective puis entretien individuel",
    "Entretien, Tests",
    "Dossier de candidature et entretien de motivation",
    "Tests de positionnement écrit et oral",
    "Inscription sur prescription de France Travail, de la Mission locale ou de Cap emploi",
    "Positionnement linguistique préalable",
)

MODALITES_PEDAGOGIQUES = (
    "Apports théoriques et mises en situation",
    "Pédagogie active, travaux de groupe",
    "Formation mixte : présentiel et classe virtuelle",
    "Plateau technique, chantier école",
    "Individualisation des parcours, centre de ressources",
)

MODALITES_INSCRIPTION = (
    "Inscription auprès du centre",
    "Sur prescription d'un conseiller",
    "Inscription en ligne sur le site de l'organisme",
    "Contacter le secrétariat",
    "Inscription lors de l'information collective",
)

FRAIS_RESTANTS = (
    "Aucun",
    "Frais de dossier : 30 euros",
    "Tenue professionnelle à la charge du stagiaire",
    "Frais d'examen inclus",
)

DETAIL_PRISE_EN_CHARGE = (
    "Formation financée par la Région pour les demandeurs d'emploi",
    "Prise en charge possible par le CPF, l'OPCO ou France Travail",
    "Gratuit pour les personnes orientées par un prescripteur",
    "Rémunération possible selon la situation du stagiaire",
)

PROGRAMMES_FINANCEUR = (
    "Programme régional de formation",
    "Pacte régional d'investissement dans les compétences",
    "Plan de développement des compétences",
    "Programme d'intégration républicaine",
    "Appel à projets insertion",
)

OBJECTIF_PHRASES = (
    "Cette formation permet d'acquérir les compétences nécessaires pour exercer le métier "
    "{de_metier}.",
    "À l'issue de la formation, le stagiaire sera capable de {competence}.",
    "Acquérir les gestes professionnels et les savoir-faire pour {competence}.",
    "Se préparer à l'accès à l'emploi en tant que {metier}.",
    "La formation vise à {competence} dans le respect des règles de sécurité.",
    "Développer son autonomie et sa polyvalence pour {competence}.",
)

OBJECTIF_LANGUE = (
    "Améliorer sa maîtrise du français à l'oral et à l'écrit pour {competence}.",
    "Permettre aux apprenants de {competence} et de gagner en autonomie.",
    "Acquérir les bases de la langue française nécessaires pour {competence}.",
    "Favoriser l'insertion sociale et professionnelle en apprenant à {competence}.",
)

RESULTATS_PHRASES = (
    "Obtention de la certification visée.",
    "Attestation de fin de formation.",
    "Validation de tout ou partie des blocs de compétences.",
    "-",
    "Certificat de compétences professionnelles.",
    "Attestation de compétences.",
)

RESULTATS_LANGUE = (
    "Attestation de niveau de langue.",
    "Progression d'un niveau du CECRL.",
    "Attestation de fin de formation linguistique.",
    "Passage du diplôme visé.",
)

CONTENU_INTRO = (
    "Programme : ",
    "Contenu de la formation : ",
    "La formation est organisée en modules : ",
    "",
    "Modules : ",
)

CONTENU_LIAISON = (
    "Évaluations en cours de formation.",
    "Accompagnement individualisé tout au long du parcours.",
    "Période d'application en entreprise.",
    "Suivi personnalisé et bilan final.",
    "Travaux pratiques sur plateau technique.",
    "Techniques de recherche d'emploi.",
    "Sensibilisation au développement durable.",
    "Préparation aux épreuves de certification.",
)

CONTENU_LIAISON_LANGUE = (
    "Mises en situation à partir de documents authentiques.",
    "Jeux de rôle et travail en petits groupes.",
    "Sorties pédagogiques dans le quartier.",
    "Évaluation des progrès à mi-parcours.",
    "Utilisation d'outils numériques simples.",
    "Échanges autour de situations vécues par les apprenants.",
)

PARAGRAPHES_METIER = (
    "Méthodes pédagogiques : alternance d'apports théoriques, de démonstrations et de mises en "
    "situation professionnelle sur plateau technique. Chaque stagiaire dispose d'un livret de "
    "suivi où sont consignées les compétences acquises.",
    "Modalités d'évaluation : évaluations formatives en cours de formation, mises en situation "
    "professionnelle reconstituées et entretien final avec un jury de professionnels du secteur.",
    "Profil des formateurs : formateurs expérimentés issus du secteur professionnel, titulaires "
    "d'une qualification de niveau au moins équivalent à celui de la formation et d'une "
    "expérience significative dans le métier.",
    "Période en entreprise : la période d'application en entreprise permet de mettre en oeuvre "
    "les compétences acquises en centre, sous la responsabilité d'un tuteur. Elle fait l'objet "
    "d'une convention de stage et d'une évaluation conjointe.",
    "Accessibilité : nos locaux sont accessibles aux personnes à mobilité réduite. Pour toute "
    "situation de handicap, le référent handicap étudie avec vous les aménagements possibles "
    "du parcours et des épreuves.",
    "Accompagnement : un entretien individuel de positionnement permet d'adapter le parcours aux "
    "acquis de chacun. Un bilan intermédiaire et un bilan final sont réalisés avec le "
    "formateur référent.",
    "Santé et sécurité au travail : prévention des risques professionnels, gestes et postures, "
    "utilisation des équipements de protection individuelle et application des consignes de "
    "sécurité propres au métier.",
    "Techniques de recherche d'emploi : rédaction du CV et de la lettre de motivation, "
    "préparation aux entretiens d'embauche, connaissance du marché de l'emploi local et des "
    "entreprises qui recrutent.",
)

PARAGRAPHES_LANGUE = (
    "Méthodes pédagogiques : approche communicative et actionnelle, à partir de situations de la "
    "vie quotidienne. Les apprenants travaillent en petits groupes de niveau homogène, avec des "
    "supports adaptés à leurs besoins.",
    "Positionnement : un test de positionnement oral et écrit est réalisé à l'entrée afin de "
    "constituer des groupes de niveau et de fixer avec chaque apprenant des objectifs réalistes.",
    "Évaluation : les progrès sont évalués régulièrement au regard du Cadre européen commun de "
    "référence pour les langues. Une attestation de niveau est remise en fin de parcours.",
    "Profil des formateurs : formateurs titulaires d'un diplôme de didactique du français langue "
    "étrangère ou bénévoles formés, accompagnés par une coordinatrice pédagogique.",
    "Garde d'enfants : une solution de garde peut être proposée pendant les ateliers, sur "
    "demande lors de l'inscription.",
    "Accompagnement : les apprenants sont orientés vers les structures partenaires (services "
    "sociaux, France Travail, Mission locale) pour la suite de leur parcours.",
)

BRANCHES_NAF = (
    "23.61Z",
    "41.20A",
    "43.21A",
    "43.99C",
    "49.41A",
    "52.10B",
    "56.10A",
    "86.10Z",
    "87.10A",
    "88.10A",
    "81.21Z",
    "47.11F",
)

SOURCES_CPF = (
    "COPANEF (Comité paritaire interprofessionnel national pour l'emploi et la formation)",
    "COPAREF",
    "CPNE de la branche",
)

LIBELLES_BLOCS = (
    "Préparer et organiser son intervention",
    "Réaliser les opérations techniques",
    "Communiquer avec les clients et les équipes",
    "Contrôler la qualité",
    "Appliquer les règles de santé et sécurité au travail",
)

POIDS_OFFRES_LANGUE = (30, 6, 15, 7, 17, 11, 14)
"""Relative frequency of each entry of OFFRES_LANGUE, roughly that of the regional offers."""

INTITULES_SANS_DISPOSITIF = {
    "ASL": (
        "Ateliers de français - vie quotidienne",
        "Français pour la vie sociale",
        "Atelier de français et citoyenneté",
    ),
    "OEPRE": ("Français pour les parents", "Atelier parents - école et langue française"),
}
"""Titles of ASL and OEPRE offers whose producer states the scheme only in an extras."""

SUFFIXES_INTITULE = (
    "",
    "",
    "",
    "",
    " - en alternance",
    " (parcours complet)",
    " - parcours modulaire",
    " : accès par blocs de compétences",
    " - formation qualifiante",
    " - session de rentrée",
)

PREFIXES_COURTES = ("", "", "Initiation : ", "Perfectionnement - ", "Module ", "Atelier ")
