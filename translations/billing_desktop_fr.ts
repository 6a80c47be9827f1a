<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation>Vue d&apos;ensemble</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Factures</translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation>Utilisateurs et licences</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation>Moyens de paiement</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Activité</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-mails</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation>Modifications non enregistrées</translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation>Les modifications du compte {account} ne sont pas enregistrées. Voulez-vous les abandonner&#xa0;?</translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation>Solde dû&#xa0;: {amount}</translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation>Rien à payer</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Crédit du compte&#xa0;: {amount}</translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation>Compte {account}, {company}</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Comptes</translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation>Retour à la liste des comptes (Alt+Gauche)</translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation>Retour à la liste des comptes</translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation>Alt+{number}</translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation>Onglets du compte</translation>
    </message>
</context>
<context>
    <name>AccountsTableModel</name>
    <message>
        <source>Standard</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Standard</translation>
    </message>
    <message>
        <source>Corporate</source>
        <translation>Corporate</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actif</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Expiré</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Clôturé</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>En retard</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de compte</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Pays</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Représentant</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>Solde</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Subscriptions in trial, active or pending cancellation</source>
        <translation>Abonnements en essai, actifs ou en attente d&apos;annulation</translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation>Montant dû sur les factures à payer</translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation>En retard&#xa0;: une facture à payer a dépassé son échéance</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation>Tous les pays</translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation>Exporter les comptes</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation>Écriture des comptes dans {file}…</translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n compte exporté.</numerusform>
            <numerusform>%n comptes exportés.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln compte</numerusform>
            <numerusform>%Ln comptes</numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation>Aucun compte ne correspond au filtre.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Effacer tous les filtres</translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation>Cette base de données ne contient encore aucun compte.</translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation>Les comptes apparaissent ici dès qu&apos;ils sont créés ou importés.</translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation>Explorer plutôt la base de démonstration</translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation>Filtrer par ID de compte ou nom de société</translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation>Saisissez une partie du nom de la société ou le début d&apos;un ID de compte (Ctrl+F)</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Tous les types</translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation>Afficher uniquement les comptes de ce type</translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation>Afficher uniquement les comptes de ce pays</translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation>Tous les représentants</translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation>Mes comptes</translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation>Afficher uniquement les comptes de ce représentant</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>E&amp;xporter en CSV…</translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation>Enregistrer les comptes du filtre actuel, dans l&apos;ordre actuel, dans un fichier CSV</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>En retard uniquement</translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation>Afficher uniquement les comptes ayant une facture dont l&apos;échéance est dépassée</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Comptes</translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Date</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Demandé par</translation>
    </message>
    <message>
        <source>System</source>
        <extracomment>A page could not be read (the account was deleted meanwhile, …).</extracomment>
        <translation>Système</translation>
    </message>
</context>
<context>
    <name>ActivityTab</name>
    <message>
        <source>Licences assigned</source>
        <extracomment>Translation context of the constant words below. What each audit action means, in words (the codes the services write).</extracomment>
        <translation>Licences attribuées</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licences retirées</translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation>Panier modifié</translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation>Panier vidé</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Commande passée</translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation>Abonnement souscrit</translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation>Abonnement modifié</translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation>Abonnement rétrogradé</translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation>Abonnement renouvelé</translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation>Période de facturation avancée</translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation>Durée du contrat renouvelée</translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation>Abonnement terminé</translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation>Essai expiré</translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation>Abonnement annulé en ligne</translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation>Abonnement annulé par l&apos;assistance</translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation>Module complémentaire annulé</translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation>Abonnement réactivé</translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation>Vérification de l&apos;appelant</translation>
    </message>
    <message>
        <source>Caller verification failed repeatedly</source>
        <translation>Échecs répétés de la vérification de l&apos;appelant</translation>
    </message>
    <message>
        <source>Operator name changed</source>
        <translation>Nom de l&apos;opérateur modifié</translation>
    </message>
    <message>
        <source>Accounts list exported</source>
        <translation>Liste des comptes exportée</translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation>Avis de fin d&apos;essai envoyé</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Données marquées pour suppression</translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation>Paiement automatique modifié</translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation>Numéro de TVA modifié</translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation>Données du compte exportées</translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation>Destinataires des factures modifiés</translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation>Coordonnées du compte modifiées</translation>
    </message>
    <message>
        <source>Representative changed</source>
        <translation>Représentant modifié</translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation>Moyen de paiement ajouté</translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation>Moyen de paiement supprimé</translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation>Moyen de paiement par défaut modifié</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Paiement enregistré</translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation>Facture contestée</translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation>Facture annulée</translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation>Contacts titulaires d&apos;une licence</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation>Renouvellement automatique</translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation>Demande d&apos;annulation</translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation>Date d&apos;effet de l&apos;annulation</translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation>Motif d&apos;annulation</translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation>Motif indiqué</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Actif jusqu&apos;au</translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation>Mois encore facturés</translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation>Montant encore facturé</translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation>Frais supplémentaires</translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation>Renouvelé</translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation>Données supprimées le</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Formule</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licences</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Fréquence de facturation</translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation>Acheté via</translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation>Date de référence de facturation</translation>
    </message>
    <message>
        <source>Period start</source>
        <translation>Début de période</translation>
    </message>
    <message>
        <source>Period end</source>
        <translation>Fin de période</translation>
    </message>
    <message>
        <source>Term start</source>
        <translation>Début du contrat</translation>
    </message>
    <message>
        <source>Term end</source>
        <translation>Fin du contrat</translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation>Durée en mois</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fin de l&apos;essai</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Terminé le</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Modules complémentaires</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Module complémentaire</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actif</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Se termine le</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Paiement automatique</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Numéro de TVA</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Représentant</translation>
    </message>
    <message>
        <source>Account type</source>
        <translation>Type de compte</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation>Complément d&apos;adresse</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Code postal</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ville</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Région</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Pays</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Devise</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Réseau de carte</translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation>Quatre derniers chiffres</translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation>Mois d&apos;expiration</translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation>Année d&apos;expiration</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titulaire</translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation>Pays de la banque</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Par défaut</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Moyen de paiement par défaut</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Résumé</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Vérifié</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>Solde impayé</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Crédit du compte</translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation>Essai</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Essai terminé</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulation en attente</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annulé</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Expiré</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensuelle</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Annuelle</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Oui</translation>
    </message>
    <message>
        <source>No</source>
        <translation>Non</translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation>Sélectionnez une entrée pour voir ce qui a changé.</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Système</translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation>{when} par {operator}</translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation>Produit&#xa0;: {product}</translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation>Demandé par {contact}</translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation>Aucune valeur n&apos;a changé.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Champ</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Avant</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Après</translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation>Aucune modification n&apos;a encore été apportée à ce compte.</translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation>Activité du compte</translation>
    </message>
    <message>
        <source>What changed</source>
        <translation>Modifications</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>Billing Desktop</source>
        <extracomment>contexts the lower layers mark their messages with, most specific first</extracomment>
        <translation>Billing Desktop</translation>
    </message>
    <message>
        <source>“{location}” is neither a database file nor a server address.</source>
        <extracomment>customer emails in the account&apos;s language, for every database opened</extracomment>
        <translation>«&#xa0;{location}&#xa0;» n&apos;est ni un fichier de base de données ni une adresse de serveur.</translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Done</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation>Fait</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Pas encore</translation>
    </message>
    <message>
        <source>Month to month, billed monthly</source>
        <translation>Sans engagement, facturation mensuelle</translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation>Sans engagement, facturation annuelle</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation>Durée déterminée de {months} mois, facturation mensuelle</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation>Durée déterminée de {months} mois, facturation annuelle</translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation>Le contact de facturation peut annuler {product} en ligne&#xa0;: utilisez Annuler l&apos;abonnement sur sa carte produit.</translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation>Rien ne peut être annulé sur ce compte pour le moment.</translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation>Annulation assistée – {account}</translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation>Annulation…</translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation>Annuler {product}&#xa0;?</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Formule</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licences</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Fréquence de facturation</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation>Un essai gratuit sans informations de facturation expire simplement à la fin de la période d&apos;essai, le {date}, sans aucuns frais ni autre action à effectuer. L&apos;annuler maintenant ne fait qu&apos;enregistrer le motif.</translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation>Le contrat court jusqu&apos;au {date}&#xa0;: {amount} reste facturé pour les mois restants. Aucun remboursement n&apos;est effectué.</translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation>La période de facturation en cours est déjà payée et n&apos;est pas remboursée&#xa0;; rien d&apos;autre n&apos;est facturé. Les données sont conservées jusqu&apos;au {deletion}, puis supprimées.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation>Cet abonnement ne peut pas être annulé ici.</translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation>Vérifiez les conséquences, indiquez un motif et confirmez avec Oui, annuler.</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fin de l&apos;essai le</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Renouvellement automatique</translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation>Aucun&#xa0;: un essai n&apos;est jamais facturé</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Actif jusqu&apos;au</translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation>Désactivé&#xa0;: la formule n&apos;est pas renouvelée après le {date}</translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation>Pourquoi cet abonnement est-il annulé&#xa0;?</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Demandé par&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motif&#xa0;:</translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation>Pré&amp;cisions&#xa0;:</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>Choisissez un motif</translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation>Ce que le client souhaite ajouter (facultatif&#xa0;; {maximum} caractères maximum)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motif</translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation>Précisions sur le motif</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Demandé par</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation>{name} &lt;{email}&gt; (contact de facturation)</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation>&amp;Lancer l&apos;annulation assistée…</translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation>C&apos;est trop cher</translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation>Il manque des fonctionnalités dont nous avons besoin</translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation>Nous changeons de fournisseur</translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation>Nous n&apos;en avons plus besoin</translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation>C&apos;était un projet temporaire</translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation>Problèmes techniques</translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation>Autre (veuillez préciser)</translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation>Annulation confirmée</translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation>Le renouvellement automatique est désactivé. Cliquez sur Fermer pour terminer.</translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation>L&apos;essai de {product} se termine le {date}, sans frais.</translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation>Votre abonnement {product} expire le {date}.</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulation en attente</translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation>Envoyé à {email}</translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation>Envoyé au contact de facturation</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fin de l&apos;essai le</translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation>Expire le</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Renouvellement automatique</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Désactivé</translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation>E-mail de confirmation</translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation>Si vous changez d&apos;avis, choisissez Réactiver dans le menu des options de l&apos;abonnement avant le {date}.</translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation>Ouvrir les factu&amp;res</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation>{product} ne peut pas être annulé en ligne. Veuillez contacter l&apos;assistance pour l&apos;annuler.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation>Cet abonnement ne peut pas être annulé pour le moment.</translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation>Annuler l&apos;abonnement&#xa0;: {product}</translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation>Annuler l&apos;abonnement</translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation>&amp;Oui, annuler</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation>&amp;Ne pas annuler</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Fermer</translation>
    </message>
</context>
<context>
    <name>CancellationsModel</name>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Se termine le</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation>Panier</translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation>Tout le contenu du panier fait l&apos;objet d&apos;une seule commande et d&apos;une seule facture.</translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation>Vérifiez les produits de votre panier. Pour en retirer un, sélectionnez-le et cliquez sur Retirer du panier.</translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation>&amp;Retirer du panier</translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation>Produits du panier</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Passer au pa&amp;iement</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>Attended and unattended remote support for help desks (previous generation).</source>
        <translation>Assistance à distance avec ou sans présence de l’utilisateur pour les services d’assistance (génération précédente).</translation>
    </message>
    <message>
        <source>Mobile device support</source>
        <translation>Prise en charge des appareils mobiles</translation>
    </message>
    <message>
        <source>Camera share</source>
        <translation>Partage de caméra</translation>
    </message>
    <message>
        <source>Additional storage (100 GB)</source>
        <translation>Stockage supplémentaire (100 Go)</translation>
    </message>
    <message>
        <source>Remote support with a service desk, for technicians of any team size.</source>
        <translation>Assistance à distance avec centre de services, pour les techniciens d’équipes de toute taille.</translation>
    </message>
    <message>
        <source>Remote monitoring, management and support for IT teams and managed service providers.</source>
        <translation>Surveillance, gestion et assistance à distance pour les équipes informatiques et les fournisseurs de services gérés.</translation>
    </message>
    <message>
        <source>Third-party patch management</source>
        <translation>Gestion des correctifs tiers</translation>
    </message>
    <message>
        <source>Mobile device management</source>
        <translation>Gestion des appareils mobiles</translation>
    </message>
    <message>
        <source>Additional storage (250 GB)</source>
        <translation>Stockage supplémentaire (250 Go)</translation>
    </message>
    <message>
        <source>Cloud phone system with video meetings, messaging and a contact centre option.</source>
        <translation>Téléphonie cloud avec visioconférences, messagerie et centre de contact en option.</translation>
    </message>
    <message>
        <source>Contact center</source>
        <translation>Centre de contact</translation>
    </message>
    <message>
        <source>Call recording storage</source>
        <translation>Stockage des enregistrements d’appels</translation>
    </message>
    <message>
        <source>Online meetings and video conferencing.</source>
        <translation>Réunions en ligne et visioconférences.</translation>
    </message>
    <message>
        <source>Additional cloud storage</source>
        <translation>Stockage cloud supplémentaire</translation>
    </message>
    <message>
        <source>Conference room connector</source>
        <translation>Connecteur pour salles de réunion</translation>
    </message>
    <message>
        <source>Webinars and virtual events with registration, polls and analytics.</source>
        <translation>Webinaires et événements virtuels avec inscription, sondages et analyses.</translation>
    </message>
    <message>
        <source>Webinar recording storage</source>
        <translation>Stockage des enregistrements de webinaires</translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation>Les données du compte ont été exportées dans {path}.</translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation>La carte par défaut a expiré&#xa0;; ajoutez d&apos;abord une nouvelle carte ou définissez un autre moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation>{contract}.</translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation>Le contrat court du {start} au {end}.</translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation>Le préavis de 30 jours a expiré le {deadline}&#xa0;: le contrat sera renouvelé une dernière fois avant de prendre fin.</translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation>S&apos;il est annulé au plus tard le {deadline}, il ne sera pas renouvelé.</translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation>La période de facturation en cours se termine le {date}.</translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}&#xa0;:</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Enregistrer un virement bancaire de {amount} pour le compte {account}&#xa0;?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>Débiter {amount} sur {method} pour le compte {account}&#xa0;?</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Régler le solde</translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation>Cette opération est effectuée immédiatement, avant l&apos;annulation&#xa0;: les factures à payer sont réglées de la plus ancienne à la plus récente et le client reçoit une confirmation de paiement par e-mail.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Payer {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation>{amount} a été reçu par {method}&#xa0;; le client a été informé par e-mail.</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Tout retirer</translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>Retirer %n licence de {products} à son utilisateur&#xa0;?</numerusform>
            <numerusform>Retirer les %n licences de {products} à leurs utilisateurs&#xa0;?</numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation>Cette opération est effectuée immédiatement, avant l&apos;annulation&#xa0;: ces utilisateurs ne pourront plus utiliser le produit.</translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation>&amp;Tout retirer</translation>
    </message>
    <message>
        <source>Nothing was unassigned. The checklist now shows the current data: check it and press Unassign all again if needed.</source>
        <translation>Aucune licence n&apos;a été retirée. La liste de vérification affiche maintenant les données actuelles&#xa0;: vérifiez-la et cliquez de nouveau sur Retirer toutes les licences si nécessaire.</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>%n licence a été retirée.</numerusform>
            <numerusform>%n licences ont été retirées.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation>Exporter les données du compte</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Archives ZIP (*.zip)</translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation>Lecture des données du compte…</translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation>Écriture de l&apos;archive…</translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation>Exportation des données du compte…</translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation>Les données du compte ont été exportées.</translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation>Avant l&apos;annulation</translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation>Étape 3 sur 6&#xa0;: toutes les conditions doivent être remplies pour que l&apos;annulation puisse avoir lieu.</translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation>Chaque bouton effectue une seule opération, immédiatement après votre confirmation&#xa0;: ce sont les seules modifications apportées avant le bouton final Annuler les abonnements. Chaque condition se coche d&apos;elle-même lorsqu&apos;elle est remplie.</translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation>&amp;Régler le solde…</translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation>&amp;Moyens de paiement…</translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation>Retirer toutes les &amp;licences…</translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation>E&amp;xporter les données du compte…</translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation>L&apos;appelant confirme que les données sont déjà sauve&amp;gardées</translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Monthly</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box)</extracomment>
        <translation>Mensuelle</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Annuelle</translation>
    </message>
    <message>
        <source>billed monthly</source>
        <extracomment>how a line is billed, as a whole phrase (never a lower-cased frequency word)</extracomment>
        <translation>facturation mensuelle</translation>
    </message>
    <message>
        <source>billed annually</source>
        <translation>facturation annuelle</translation>
    </message>
    <message>
        <source>{price} per licence per month</source>
        <extracomment>&quot;per licence per month|year&quot; for the price of a tier or an add-on</extracomment>
        <translation>{price} par licence et par mois</translation>
    </message>
    <message>
        <source>{price} per licence per year</source>
        <translation>{price} par licence et par an</translation>
    </message>
    <message>
        <source>{price} per month</source>
        <translation>{price} par mois</translation>
    </message>
    <message>
        <source>{price} per year</source>
        <translation>{price} par an</translation>
    </message>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) Place order met a conflict: another operator changed what the review shows (going back reads the data again) the Plan page; ``None`` when the wizard was opened from the cart the page shown before the current one (to tell Back from Next)</extracomment>
        <translation>Commande — {company} ({account})</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Fermer</translation>
    </message>
    <message>
        <source>subscribe to {plan}</source>
        <translation>nouvel abonnement {plan}</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licence (au lieu de {old})</numerusform>
            <numerusform>%n licences (au lieu de {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licence</numerusform>
            <numerusform>%n licences</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}: {plan}, {licences}, {billing}</source>
        <translation>{product}&#xa0;: {plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>{line}; adds {addons}</source>
        <translation>{line}&#xa0;; modules ajoutés&#xa0;: {addons}</translation>
    </message>
    <message>
        <source>Press Edit order to read the current data and review the order again.</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation>Cliquez sur Modifier la commande pour relire les données actuelles et vérifier de nouveau la commande.</translation>
    </message>
    <message>
        <source>{product} {old} → {new}</source>
        <translation>{product} {old} → {new}</translation>
    </message>
    <message>
        <source>{product} {plan}</source>
        <translation>{product} {plan}</translation>
    </message>
    <message>
        <source>Product:</source>
        <translation>Produit&#xa0;:</translation>
    </message>
    <message>
        <source>Billing period:</source>
        <translation>Période de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>{period} (starts today, {billing})</source>
        <translation>{period} (à partir d&apos;aujourd&apos;hui, {billing})</translation>
    </message>
    <message>
        <source>{new} (was {old})</source>
        <translation>{new} (au lieu de {old})</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licences&#xa0;:</translation>
    </message>
    <message>
        <source>Plan price:</source>
        <translation>Prix de la formule&#xa0;:</translation>
    </message>
    <message>
        <source>{description}:</source>
        <translation>{description}&#xa0;:</translation>
    </message>
    <message>
        <source>{quantity} × {price} = {amount}</source>
        <translation>{quantity} × {price} = {amount}</translation>
    </message>
    <message>
        <source>Proration credit:</source>
        <translation>Crédit au prorata&#xa0;:</translation>
    </message>
    <message>
        <source>{amount} for {days} unused days ({period})</source>
        <translation>{amount} pour {days} jours non utilisés ({period})</translation>
    </message>
    <message>
        <source>Subtotal:</source>
        <translation>Sous-total&#xa0;:</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>TVA&#xa0;:</translation>
    </message>
    <message>
        <source>{amount} — reverse charge (VAT number {number})</source>
        <translation>{amount} — autoliquidation (numéro de TVA {number})</translation>
    </message>
    <message>
        <source>VAT ({rate}):</source>
        <translation>TVA ({rate})&#xa0;:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Total&#xa0;:</translation>
    </message>
    <message>
        <source>Account credit applied:</source>
        <translation>Crédit du compte imputé&#xa0;:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Total dû maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>Becomes account credit:</source>
        <translation>Porté au crédit du compte&#xa0;:</translation>
    </message>
    <message>
        <source>Press Back to review the order again with the current data.</source>
        <translation>Cliquez sur Précédent pour vérifier de nouveau la commande avec les données actuelles.</translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message>
        <source>Simulated Clock</source>
        <extracomment>the upcoming-events panel&apos;s first height under the view (pixels) the clock moved (also after a cancelled move that did part of the way): the summary the upcoming-events panel refreshed after each move (set by ``install_clock_control``) the move running, if any the summary of the last move, while it is open why this operator may not move the clock (None: they may) View ▸ Simulated Clock (set by ``install_clock_control``) the result also after Cancel (the work&apos;s return value is dropped then)</extracomment>
        <translation>Horloge simulée</translation>
    </message>
    <message>
        <source>Moving the clock to {date} and running what is due…</source>
        <translation>Avance de l&apos;horloge jusqu&apos;au {date} et traitement des échéances…</translation>
    </message>
    <message>
        <source>Move the clock to the next renewal, trial end, cancellation end or term end.</source>
        <translation>Avancer l&apos;horloge jusqu&apos;au prochain événement&#xa0;: renouvellement, fin d&apos;essai, prise d&apos;effet d&apos;une annulation ou fin de contrat.</translation>
    </message>
    <message>
        <source>Nothing lies ahead: no renewal, trial end, cancellation or term end.</source>
        <translation>Aucun événement à venir&#xa0;: ni renouvellement, ni fin d&apos;essai, ni annulation, ni fin de contrat.</translation>
    </message>
    <message>
        <source>Move to {date}: {product} of {company} renews.</source>
        <translation>Avancer au {date}&#xa0;: renouvellement de {product} pour {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} trial of {company} ends.</source>
        <translation>Avancer au {date}&#xa0;: fin de l&apos;essai de {product} pour {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the cancellation of {product} for {company} takes effect.</source>
        <translation>Avancer au {date}&#xa0;: prise d&apos;effet de l&apos;annulation de {product} pour {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} contract term of {company} ends.</source>
        <translation>Avancer au {date}&#xa0;: fin de la durée du contrat de {product} pour {company}.</translation>
    </message>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>Et %n autre événement ce jour-là.</numerusform>
            <numerusform>Et %n autres événements ce jour-là.</numerusform>
        </translation>
    </message>
    <message>
        <source>+1 day</source>
        <translation>+1 jour</translation>
    </message>
    <message>
        <source>Move the simulated date one day forward and run what is due.</source>
        <translation>Avancer la date simulée d&apos;un jour et traiter les échéances.</translation>
    </message>
    <message>
        <source>+1 month</source>
        <translation>+1 mois</translation>
    </message>
    <message>
        <source>Move the simulated date one month forward and run what is due.</source>
        <translation>Avancer la date simulée d&apos;un mois et traiter les échéances.</translation>
    </message>
    <message>
        <source>To next event</source>
        <translation>Événement suivant</translation>
    </message>
    <message>
        <source>To date…</source>
        <translation>À une date…</translation>
    </message>
    <message>
        <source>Pick a day after today: the simulated date moves there and runs what is due.</source>
        <translation>Choisissez un jour postérieur à aujourd&apos;hui&#xa0;: la date simulée avance jusqu&apos;à ce jour et les échéances sont traitées.</translation>
    </message>
    <message>
        <source>Day to move the clock to</source>
        <translation>Jour jusqu&apos;auquel avancer l&apos;horloge</translation>
    </message>
    <message>
        <source>The simulated clock of this demo database: it only moves forward.</source>
        <translation>L&apos;horloge simulée de cette base de démonstration&#xa0;: elle ne peut qu&apos;avancer.</translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message>
        <source>Renewal invoice</source>
        <extracomment>the tree&apos;s item role holding the account id of a line (None on group titles) lines listed per group; a long move on a large demo lists the first ones and a count</extracomment>
        <translation>Facture de renouvellement</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Essai bientôt terminé</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Essai terminé</translation>
    </message>
    <message>
        <source>{product} renewed for its last period</source>
        <translation>{product} renouvelé pour sa dernière période</translation>
    </message>
    <message>
        <source>{product} renewed until {date}</source>
        <translation>{product} renouvelé jusqu&apos;au {date}</translation>
    </message>
    <message>
        <source>The {product} trial ended without a purchase</source>
        <translation>L&apos;essai de {product} s&apos;est terminé sans achat</translation>
    </message>
    <message>
        <source>{product} ended: its cancellation took effect</source>
        <translation>{product} terminé&#xa0;: son annulation a pris effet</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, paid</source>
        <translation>Facture {number} pour {product}&#xa0;: {amount}, payée</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, open</source>
        <translation>Facture {number} pour {product}&#xa0;: {amount}, à payer</translation>
    </message>
    <message>
        <source>“{email}” email about {product} to {address}</source>
        <translation>E-mail «&#xa0;{email}&#xa0;» concernant {product}, adressé à {address}</translation>
    </message>
    <message>
        <source>“{email}” email about {product}</source>
        <translation>E-mail «&#xa0;{email}&#xa0;» concernant {product}</translation>
    </message>
    <message>
        <source>{product} term renewed until {date}</source>
        <translation>Durée du contrat de {product} renouvelée jusqu&apos;au {date}</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n facture est passée en retard</numerusform>
            <numerusform>%n factures sont passées en retard</numerusform>
        </translation>
    </message>
    <message>
        <source>The data of {product} was marked for deletion</source>
        <translation>Les données de {product} ont été marquées pour suppression</translation>
    </message>
    <message>
        <source>Double-click or press Enter to open {company}</source>
        <extracomment>a line was activated (double-click or Enter): the account&apos;s id</extracomment>
        <translation>Double-cliquez ou appuyez sur Entrée pour ouvrir {company}</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… et %n autre</numerusform>
            <numerusform>… et %n autres</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>%n événement a échoué et sera relancé</numerusform>
            <numerusform>%n événements ont échoué et seront relancés</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n abonnement renouvelé</numerusform>
            <numerusform>%n abonnements renouvelés</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n essai expiré</numerusform>
            <numerusform>%n essais expirés</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n abonnement annulé</numerusform>
            <numerusform>%n abonnements annulés</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n facture émise, {total} au total</numerusform>
            <numerusform>%n factures émises, {total} au total</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n e-mail en file d&apos;attente pour les clients</numerusform>
            <numerusform>%n e-mails en file d&apos;attente pour les clients</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n durée de contrat renouvelée</numerusform>
            <numerusform>%n durées de contrat renouvelées</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n abonnement marqué pour suppression des données</numerusform>
            <numerusform>%n abonnements marqués pour suppression des données</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled: the clock stopped on {date} instead of {requested}. What happened until then is kept.</source>
        <translation>Annulé&#xa0;: l&apos;horloge s&apos;est arrêtée au {date} au lieu du {requested}. Ce qui s&apos;est produit jusque-là est conservé.</translation>
    </message>
    <message>
        <source>The clock moved from {start} to {end}.</source>
        <translation>L&apos;horloge a avancé du {start} au {end}.</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>Ce qui s&apos;est passé</translation>
    </message>
    <message>
        <source>Nothing was due between {start} and {end}.</source>
        <translation>Aucune échéance entre le {start} et le {end}.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n événement traité.</numerusform>
            <numerusform>%n événements traités.</numerusform>
        </translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>What happened, by kind</source>
        <translation>Ce qui s&apos;est passé, par type</translation>
    </message>
    <message>
        <source>Double-click a line, or select it and press Enter, to open its account.</source>
        <translation>Double-cliquez sur une ligne, ou sélectionnez-la et appuyez sur Entrée, pour ouvrir son compte.</translation>
    </message>
</context>
<context>
    <name>ConfirmPage</name>
    <message>
        <source>Account:</source>
        <translation>Compte&#xa0;:</translation>
    </message>
    <message>
        <source>{account}, {company}</source>
        <translation>{account}, {company}</translation>
    </message>
    <message>
        <source>Requested by:</source>
        <translation>Demandé par&#xa0;:</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation>Appelant vérifié&#xa0;:</translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}&#xa0;:</translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation>annulé maintenant, actif jusqu&apos;au {date}</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Encore facturé&#xa0;:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Facturé maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Rien</translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation>E-mail de confirmation à&#xa0;:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation>Confirmer l&apos;annulation</translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation>Étape 6 sur 6&#xa0;: rien n&apos;est annulé tant que vous n&apos;avez pas cliqué sur Annuler les abonnements.</translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation>&amp;Annuler les abonnements</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motif&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>Pré&amp;cisions&#xa0;:</translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation>Ce que l&apos;appelant a indiqué (obligatoire pour Autre)</translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation>Choisissez un motif…</translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation>Super-administrateur</translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation>Administrateur de facturation</translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation>Administrateur de produit</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utilisateur</translation>
    </message>
</context>
<context>
    <name>CorporateAccountsModel</name>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Représentant</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Aucun</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Unexpected error</source>
        <extracomment>After the window is shown: open the log file, then warm up the write path. How long the exit waits for background reads before closing the database.</extracomment>
        <translation>Erreur inattendue</translation>
    </message>
    <message>
        <source>Billing Desktop ran into an unexpected error.</source>
        <translation>Billing Desktop a rencontré une erreur inattendue.</translation>
    </message>
    <message>
        <source>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Les détails ont été enregistrés dans {path}. Rien n&apos;a été enregistré à moitié&#xa0;: chaque modification est appliquée entièrement ou pas du tout. Vous pouvez continuer à travailler, ou quitter l&apos;application et la relancer.</translation>
    </message>
    <message>
        <source>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Rien n&apos;a été enregistré à moitié&#xa0;: chaque modification est appliquée entièrement ou pas du tout. Vous pouvez continuer à travailler, ou quitter l&apos;application et la relancer.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quitter</translation>
    </message>
</context>
<context>
    <name>CustomerCardWidget</name>
    <message>
        <source>✓ {action}</source>
        <translation>✓ {action}</translation>
    </message>
    <message>
        <source>✗ {action}</source>
        <translation>✗ {action}</translation>
    </message>
    <message>
        <source>✗ {action}: {reason}</source>
        <translation>✗ {action}&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>✗ Lower plan: {reason}</source>
        <translation>✗ Formule inférieure&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>In the Billing Center</source>
        <translation>Dans le Centre de facturation</translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message>
        <source>Open an account to see its Billing Center as the customer sees it.</source>
        <extracomment>the view was read again and what it shows changed the contact shown as; ``None`` = the account&apos;s billing contact</extracomment>
        <translation>Ouvrez un compte pour voir son Centre de facturation tel que le client le voit.</translation>
    </message>
    <message>
        <source>{company} ({account})</source>
        <translation>{company} ({account})</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>✓ {product}: can be bought</source>
        <translation>✓ {product}&#xa0;: peut être acheté</translation>
    </message>
    <message>
        <source>✗ {product}</source>
        <translation>✗ {product}</translation>
    </message>
    <message>
        <source>✗ {product}: {reason}</source>
        <translation>✗ {product}&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Balance due: {amount}. The customer can pay it with Pay balance.</source>
        <translation>Solde dû&#xa0;: {amount}. Le client peut le régler avec Régler le solde.</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Rien à payer.</translation>
    </message>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Factures à payer (%n)</numerusform>
            <numerusform>Factures à payer (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Factures payées (%n)</numerusform>
            <numerusform>Factures payées (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Invoice</source>
        <translation>Facture</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Émise le</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Montant dû</translation>
    </message>
    <message>
        <source>{amount} (overdue)</source>
        <translation>{amount} (en retard)</translation>
    </message>
    <message>
        <source>Billing period: {start} – {end}</source>
        <translation>Période de facturation&#xa0;: {start} – {end}</translation>
    </message>
    <message>
        <source>Billing Center</source>
        <translation>Centre de facturation</translation>
    </message>
    <message>
        <source>&amp;As seen by:</source>
        <translation>&amp;Vu par&#xa0;:</translation>
    </message>
    <message>
        <source>Contact the Billing Center is shown as</source>
        <translation>Contact pour lequel le Centre de facturation est affiché</translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Découvrir d&apos;autres produits</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Factures</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation>Hors TVA</translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation>{amount} par an</translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation>{amount} par mois</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation>Lecture des chiffres…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Tableau de bord</translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation>{month}&#xa0;: {amount} prévus d&apos;après les renouvellements à venir (hors TVA)</translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation>{month}&#xa0;: {amount} facturés (hors TVA)</translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation>&amp;Devise&#xa0;:</translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation>La devise du graphique des revenus&#xa0;; les montants ne sont jamais convertis</translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation>Facturé</translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation>Prévu d&apos;après les renouvellements</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Achetées</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Attribuées</translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation>Revenus récurrents mensuels</translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation>Licences achetées et attribuées par produit</translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation>Annulations en attente</translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation>Renouvellements dans les {days} prochains jours</translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation>Aucun abonnement n&apos;est en attente d&apos;annulation.</translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation>Aucun abonnement n&apos;est renouvelé dans les {days} prochains jours.</translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation>Revenus récurrents mensuels en {currency}, hors TVA</translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation>Chiffres au {date}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>Annulations en a&amp;ttente (%Ln)</numerusform>
            <numerusform>Annulations en a&amp;ttente (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>&amp;Renouvellements dans les {days} prochains jours (%Ln)</numerusform>
            <numerusform>&amp;Renouvellements dans les {days} prochains jours (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>%Ln autre non affiché</numerusform>
            <numerusform>%Ln autres non affichés</numerusform>
        </translation>
    </message>
    <message>
        <source>{title} — {more}</source>
        <translation>{title} — {more}</translation>
    </message>
</context>
<context>
    <name>DatabaseError</name>
    <message>
        <source>The database {path} cannot be used: {detail}</source>
        <translation>La base de données {path} ne peut pas être utilisée&#xa0;: {detail}</translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation>Impossible de créer la base de données {path}&#xa0;: le dossier n&apos;est pas accessible en écriture ({detail}).</translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation>Le fichier {path} n&apos;est pas une base de données Billing Desktop valide ou il est endommagé&#xa0;; il n&apos;a pas été modifié.</translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation>La base de données {path} a été créée par une version plus récente de Billing Desktop (schéma {revision})&#xa0;; mettez l&apos;application à jour pour l&apos;ouvrir. Le fichier n&apos;a pas été modifié.</translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation>La base de données {path} est en lecture seule&#xa0;; copiez-la dans un dossier accessible en écriture ou corrigez ses autorisations.</translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation>La base de données {path} est verrouillée par un autre programme&#xa0;; fermez celui-ci et réessayez.</translation>
    </message>
    <message>
        <source>The disk holding the database {path} is full, so nothing was saved. Free some disk space and try again.</source>
        <translation>Le disque contenant la base de données {path} est plein&#xa0;: rien n&apos;a été enregistré. Libérez de l&apos;espace disque et réessayez.</translation>
    </message>
    <message>
        <source>The database file {path} cannot be found: it was moved or deleted, or its drive is not connected. Nothing was changed; put the file back and try again.</source>
        <translation>Le fichier de base de données {path} est introuvable&#xa0;: il a été déplacé ou supprimé, ou son lecteur n&apos;est pas connecté. Rien n&apos;a été modifié&#xa0;; remettez le fichier à sa place et réessayez.</translation>
    </message>
    <message>
        <source>The database {path} could not be read or written (a disk or network error); nothing was saved. Check the drive and try again.</source>
        <translation>La base de données {path} n&apos;a pas pu être lue ou écrite (erreur de disque ou de réseau)&#xa0;; rien n&apos;a été enregistré. Vérifiez le lecteur et réessayez.</translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation>Impossible de se connecter au serveur de base de données {path}&#xa0;: {detail}</translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation>{path} n&apos;est pas une adresse de base de données utilisable par Billing Desktop&#xa0;: {detail}</translation>
    </message>
</context>
<context>
    <name>DatabasePage</name>
    <message>
        <source>Database</source>
        <translation>Base de données</translation>
    </message>
    <message>
        <source>Choose the database file</source>
        <translation>Choisir le fichier de base de données</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>Bases de données SQLite (*.sqlite3 *.sqlite *.db);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation>Utilisée actuellement&#xa0;:</translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation>&amp;Fichier SQLite&#xa0;:</translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation>URL du &amp;serveur de base de données&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Parcourir…</translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation>Un fichier qui n&apos;existe pas encore est créé comme nouvelle base de données vide. L&apos;application ouvre la base choisie lorsque vous cliquez sur OK ou Appliquer, puis à chaque démarrage.</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>DEMO DATABASE</source>
        <extracomment>the banner&apos;s colour: the status bar&apos;s DEMO badge&apos;s</extracomment>
        <translation>BASE DE DÉMONSTRATION</translation>
    </message>
    <message>
        <source>Fictitious customers on a simulated date. Reset it or return to a snapshot at any time.</source>
        <translation>Clients fictifs à une date simulée. Vous pouvez la réinitialiser ou revenir à un instantané à tout moment.</translation>
    </message>
    <message>
        <source>Demo database</source>
        <translation>Base de démonstration</translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation>Formules&#xa0;: {plans}</translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation>À partir de {price} par licence et par mois, avec un essai gratuit de {days} jours</translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation>À partir de {price} par licence et par mois</translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation>Terminé le {ended}. Ses données sont conservées jusqu&apos;au {deletion}, puis supprimées.</translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation>Terminé le {ended}.</translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation>Achat impossible pour le moment&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation>Se réabonner</translation>
    </message>
    <message>
        <source>Buy</source>
        <translation>Acheter</translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation>Se réabonner à {product}</translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation>Acheter {product}</translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation>{product}, annulé</translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation>Contester la facture {number}</translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation>La facture {number} a été émise le {date}&#xa0;; elle peut être contestée jusqu&apos;au {deadline}. La contestation est notée sur la facture&#xa0;; aucun avoir n&apos;est émis automatiquement.</translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation>Que conteste le client&#xa0;?</translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation>&amp;Enregistrer la contestation</translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation>Le numéro de carte n&apos;est pas valide. Vérifiez les chiffres.</translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation>La date d&apos;expiration {month}/{year} n&apos;est pas valide.</translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation>La carte a expiré en {month:02d}/{year}.</translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation>Ce type de carte n&apos;est pas accepté.</translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation>L&apos;IBAN n&apos;est pas valide. Vérifiez les chiffres.</translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation>Le format de l&apos;IBAN n&apos;est pas valide.</translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation>{text} n&apos;est pas une date valide (utilisez AAAA-MM-JJ, today ou today+/-N suivi de d, w, m ou y).</translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code.</extracomment>
        <translation>Code de devise inconnu&#xa0;: {currency}.</translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <extracomment>Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation>Le montant {amount} n&apos;est pas un nombre.</translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation>{amount} n&apos;est pas un montant valide.</translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation>Le montant {amount} est trop élevé.</translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation>Une période doit se terminer après son début ({start} – {end}).</translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation>La date est en dehors de la plage prise en charge.</translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation>Le {day} est antérieur à la date de début de facturation ({anchor}).</translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation>Une durée déterminée doit être d&apos;au moins un mois.</translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation>Seul un super-administrateur peut demander l&apos;annulation de ce produit.</translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation>Ce produit a été acheté par l&apos;intermédiaire d&apos;un représentant&#xa0;: seul un administrateur de produit ou un administrateur de facturation habilité peut en demander l&apos;annulation.</translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation>Seul un super-administrateur ou un administrateur de facturation peut demander l&apos;annulation.</translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation>Le {on} n&apos;est pas compris dans la période de facturation en cours ({start} – {end}).</translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation>Un contrat à durée déterminée doit avoir une date de fin.</translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation>Contactez votre administrateur de facturation ({name}, {email}) pour modifier les produits ou les licences</translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation>C&apos;est déjà la formule actuelle.</translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation>Pour passer à une formule inférieure, contactez le Service client</translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation>Au moins une licence est requise.</translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation>{assigned} licences sont attribuées à des utilisateurs. Retirez des licences avant de descendre en dessous de {assigned}.</translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation>Cette formule autorise au maximum {maximum} licences.</translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation>L&apos;abonnement a expiré. Abonnez-vous de nouveau avant d&apos;apporter des modifications.</translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation>Une facture en retard doit être réglée avant de pouvoir modifier la formule.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation>Une facture peut être contestée dans les 15 jours suivant son émission&#xa0;; le dernier jour était le {deadline}.</translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation>Les représentants ne peuvent modifier que les comptes Corporate qui leur sont attribués.</translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation>Les formateurs ne peuvent apporter des modifications que dans une base de démonstration.</translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation>Votre rôle est en lecture seule.</translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation>La date de modification ({on}) est antérieure au début de la période de facturation en cours ({start}).</translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation>Le montant ne doit pas être négatif.</translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation>{country} n&apos;est pas un code pays valide.</translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation>Le taux de TVA {rate} pour {country} n&apos;est pas valide.</translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation>Le fichier des taux de TVA n&apos;est pas valide&#xa0;: {detail}.</translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation>Le fichier des taux de TVA {path} ne peut pas être lu.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation>{number} n&apos;est pas un numéro de TVA valide pour {country}&#xa0;: vérifiez son format.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation>{number} n&apos;est pas un numéro de TVA valide pour {country}&#xa0;: vérifiez les chiffres.</translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation>Le numéro de TVA {number} appartient à un autre pays que le pays de facturation ({country}).</translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation>Les numéros de TVA de {country} ne peuvent pas être validés.</translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation>Votre commande {order_number} est confirmée</translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation>Votre abonnement {product} a été annulé</translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation>Votre abonnement {product} a été réactivé</translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation>Votre essai de {product} se termine le {trial_end}</translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation>Votre essai de {product} est terminé</translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation>Facture {invoice_number} pour votre abonnement {product}</translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation>Paiement reçu&#xa0;: {amount}</translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation>Bonjour {contact_name},

Nous vous remercions pour votre commande {order_number}.

{summary}

Facture {invoice_number}&#xa0;: {total} (montant dû maintenant&#xa0;: {amount_due}).
Votre prochaine date de facturation est le {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation>Bonjour {contact_name},

Nous avons annulé le renouvellement automatique de votre abonnement {product}. Il reste actif jusqu&apos;au {expiry_date}.
Vous pouvez le réactiver à tout moment d&apos;ici là.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation>Bonjour {contact_name},

Votre abonnement {product} sera de nouveau renouvelé automatiquement. Votre prochaine date de facturation est le {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation>Bonjour {contact_name},

Votre essai gratuit de {product} se termine le {trial_end}. Abonnez-vous d&apos;ici là pour continuer à l&apos;utiliser.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation>Bonjour {contact_name},

Votre essai gratuit de {product} s&apos;est terminé le {trial_end}. Aucun montant n&apos;a été facturé. Vous pouvez vous abonner à tout moment.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation>Bonjour {contact_name},

Votre abonnement {product} a été renouvelé pour la période {period}.
Facture {invoice_number}&#xa0;: {total}. Le montant a été débité sur {charged_to}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation>Bonjour {contact_name},

Votre abonnement {product} a été renouvelé pour la période {period}.
Facture {invoice_number}&#xa0;: {total}. Merci de régler {amount_due} au plus tard le {due_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation>Bonjour {contact_name},

Votre abonnement {product} a été renouvelé pour la période {period}.
Facture {invoice_number}&#xa0;: {total}. Elle a été réglée avec le crédit de votre compte&#xa0;; aucun montant n&apos;est dû.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation>Bonjour {contact_name},

Nous avons bien reçu votre paiement de {amount} pour {invoice_numbers}. Merci.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation>Bonjour {contact_name},

Nous avons bien reçu votre paiement de {amount}. Il a été ajouté au crédit de votre compte et servira à régler vos prochaines factures. Merci.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation>Bonjour {contact_name},

Nous avons bien reçu votre paiement de {amount} pour {invoice_numbers}&#xa0;; un montant de {to_credit} a été ajouté au crédit de votre compte. Merci.
</translation>
    </message>
    <message>
        <source>
Kind regards,
Your billing team

Account {account_number} · {company_name}
</source>
        <extracomment>Appended to every body.</extracomment>
        <translation>
Cordialement,
Votre service facturation

Compte {account_number} · {company_name}
</translation>
    </message>
</context>
<context>
    <name>EmailsModel</name>
    <message>
        <source>Date</source>
        <extracomment>The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Date</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Objet</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Destinataire</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Envoyé le {when}</translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation>Dernière erreur&#xa0;: {error}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>inconnue</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Prochaine tentative&#xa0;: {when}</translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation>En attente d&apos;envoi</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Copie à {addresses}</translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Confirmation de commande</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Confirmation d&apos;annulation</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Réactivation</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Essai bientôt terminé</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Essai terminé</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Facture de renouvellement</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Paiement reçu</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>En file d&apos;attente</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Envoyé</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Échec</translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n e-mail</numerusform>
            <numerusform>%n e-mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n e-mail, en échec&#xa0;: {failed}</numerusform>
            <numerusform>%n e-mails, en échec&#xa0;: {failed}</numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Sélectionnez un e-mail pour le lire.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, copie à {cc}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Envoyé le {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Échec après %n tentative&#xa0;: {error}</numerusform>
            <numerusform>Échec après %n tentatives&#xa0;: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation>En file d&apos;attente depuis le {when}</translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation>&amp;Renvoyer</translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation>Renvoyer l&apos;e-mail en échec sélectionné lors du prochain envoi</translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation>Aucun e-mail n&apos;a encore été envoyé à ce client.</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>À&#xa0;:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Objet&#xa0;:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Statut&#xa0;:</translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation>E-mails envoyés au client</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Texte de l&apos;e-mail</translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Confirmation de commande</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Confirmation d&apos;annulation</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Réactivation</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Essai bientôt terminé</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Essai terminé</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Facture de renouvellement</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Paiement reçu</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Envoyé</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Échec</translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation>Tous les e-mails ({count})</translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation>En attente ({count})</translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation>En échec ({count})</translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation>Pas encore envoyés ({count})</translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation>Envoyés ({count})</translation>
    </message>
    <message>
        <source>{status}: {error}</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``).</extracomment>
        <translation>{status}&#xa0;: {error}</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Copie à {addresses}</translation>
    </message>
    <message>
        <source>{number} · {company}</source>
        <translation>{number} · {company}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Envoyé le {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Échec après %n tentative&#xa0;: {error}</numerusform>
            <numerusform>Échec après %n tentatives&#xa0;: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>aucun motif indiqué</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Prochaine tentative&#xa0;: {when}</translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>En attente depuis le {when}&#xa0;; %n tentative précédente a échoué&#xa0;: {error}</numerusform>
            <numerusform>En attente depuis le {when}&#xa0;; %n tentatives précédentes ont échoué&#xa0;: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Pending since {when}</source>
        <translation>En attente depuis le {when}</translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>the server-level problem (unreachable, login refused), translatable The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation>Un serveur de messagerie est configuré.</translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation>Aucun serveur de messagerie n&apos;est configuré&#xa0;: les e-mails restent dans la boîte d&apos;envoi.</translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation>Configurez le serveur SMTP dans les Paramètres.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln e-mail</numerusform>
            <numerusform>%Ln e-mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n e-mail sera envoyé dès qu&apos;un serveur de messagerie sera configuré (Paramètres, serveur SMTP). Rien n&apos;a été perdu.</numerusform>
            <numerusform>%n e-mails seront envoyés dès qu&apos;un serveur de messagerie sera configuré (Paramètres, serveur SMTP). Rien n&apos;a été perdu.</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation>Aucun serveur de messagerie n&apos;est configuré&#xa0;: rien n&apos;a été envoyé. Les e-mails restent dans la boîte d&apos;envoi&#xa0;; configurez le serveur SMTP dans les Paramètres, puis renvoyez-les.</translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation>Aucun e-mail n&apos;est à envoyer pour le moment. Les e-mails en échec sont renvoyés à l&apos;heure de leur prochaine tentative&#xa0;; vous pouvez aussi les sélectionner et choisir Réessayer maintenant.</translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation>Envoi des e-mails</translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>Envoi de %n e-mail au serveur de messagerie…</numerusform>
            <numerusform>Envoi de %n e-mails au serveur de messagerie…</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation>Aucun serveur de messagerie n&apos;est configuré&#xa0;: rien n&apos;a été envoyé. Les e-mails restent dans la boîte d&apos;envoi.</translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>Le serveur de messagerie n&apos;a pas pu être utilisé&#xa0;: %n e-mail reste dans la boîte d&apos;envoi et sera renvoyé plus tard. Réponse du serveur&#xa0;: {error}</numerusform>
            <numerusform>Le serveur de messagerie n&apos;a pas pu être utilisé&#xa0;: %n e-mails restent dans la boîte d&apos;envoi et seront renvoyés plus tard. Réponse du serveur&#xa0;: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n e-mail envoyé.</numerusform>
            <numerusform>%n e-mails envoyés.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n e-mail envoyé&#xa0;; refusés par le serveur&#xa0;: {failed} (voir Dernière erreur).</numerusform>
            <numerusform>%n e-mails envoyés&#xa0;; refusés par le serveur&#xa0;: {failed} (voir Dernière erreur).</numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation>L&apos;envoi a été annulé. Les e-mails déjà envoyés sont marqués comme envoyés&#xa0;; les autres restent dans la boîte d&apos;envoi.</translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Sélectionnez un e-mail pour le lire.</translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation>Aucun e-mail pour le moment.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, copie à {cc}</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Voir&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation>&amp;Réessayer maintenant</translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation>Envoyer immédiatement les e-mails en échec ou en attente sélectionnés</translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation>&amp;Envoyer les e-mails en attente</translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation>Envoyer au serveur de messagerie tous les e-mails en attente dont l&apos;envoi est prévu maintenant</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>&amp;Ouvrir le compte</translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation>Afficher le compte auquel cet e-mail a été envoyé</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>À&#xa0;:</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>Compte&#xa0;:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Objet&#xa0;:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Statut&#xa0;:</translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation>E-mails aux clients</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Texte de l&apos;e-mail</translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message>
        <source>What this step is about is not on the screen yet: do the steps before it first.</source>
        <extracomment>View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers) what the last Prepare found (a result, or the error reading the account)</extracomment>
        <translation>L&apos;élément concerné par cette étape n&apos;est pas encore à l&apos;écran&#xa0;: effectuez d&apos;abord les étapes précédentes.</translation>
    </message>
    <message>
        <source>Choose a walkthrough: it follows a help article step by step on a demo account, and ticks each step as you do it.</source>
        <translation>Choisissez un parcours guidé&#xa0;: il suit un article d&apos;aide étape par étape sur un compte de démonstration et coche chaque étape à mesure que vous l&apos;effectuez.</translation>
    </message>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>L&apos;étape est terminée.</numerusform>
            <numerusform>Les %n étapes sont terminées.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done! {outcome}</source>
        <translation>Terminé&#xa0;! {outcome}</translation>
    </message>
    <message>
        <source>Step {number} of {total}</source>
        <translation>Étape {number} sur {total}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, done: {text}</source>
        <translation>Étape {number} sur {total}, effectuée&#xa0;: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, current: {text}</source>
        <translation>Étape {number} sur {total}, en cours&#xa0;: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}: {text}</source>
        <translation>Étape {number} sur {total}&#xa0;: {text}</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>Guide</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>&amp;Guide</translation>
    </message>
    <message>
        <source>&amp;Walkthrough:</source>
        <translation>&amp;Parcours&#xa0;:</translation>
    </message>
    <message>
        <source>Choose a walkthrough…</source>
        <translation>Choisissez un parcours guidé…</translation>
    </message>
    <message>
        <source>Pr&amp;epare</source>
        <translation>P&amp;réparer</translation>
    </message>
    <message>
        <source>Open the demo account of this walkthrough and start from step 1</source>
        <translation>Ouvrir le compte de démonstration de ce parcours et commencer à l&apos;étape 1</translation>
    </message>
    <message>
        <source>Show &amp;me</source>
        <translation>&amp;Montrer</translation>
    </message>
    <message>
        <source>Point at what the current step is about</source>
        <translation>Désigner l&apos;élément concerné par l&apos;étape en cours</translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation>Facture</translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation>Numéro de facture</translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation>Date d&apos;émission</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Date d&apos;échéance</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Période de prestation</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation>Facturé à</translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation>À l&apos;attention de {name}</translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation>Numéro de TVA&#xa0;: {vat_number}</translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation>Bon de commande&#xa0;: {po_number}</translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation>Conditions de paiement&#xa0;: {days} jours net</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Période de facturation</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantité</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Prix unitaire</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Sous-total</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>TVA {rate}</translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation>Autoliquidation — TVA due par le preneur</translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation>Crédit du compte imputé</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>Montant payé</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Montant dû</translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation>Merci de régler {amount} au plus tard le {due_date} en indiquant le numéro de facture {number}.</translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation>Facture intégralement réglée. Merci.</translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation>Cette facture a été annulée et n&apos;est pas à régler.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Contestée le {date}&#xa0;: {note}</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>ANNULÉE</translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation>Autoliquidation&#xa0;: TVA due par le preneur (article 196 de la directive TVA).</translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation>Prestation</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Période de facturation</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantité</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Prix unitaire</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation>À payer</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>En retard</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Payée</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Annulée</translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation>{status}, contestée</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>What a row shows in one column: its text, alignment and colour (None: the default). Blocks of rows kept in memory (the rest is read again by id when shown).</extracomment>
        <translation>Numéro</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de compte</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Période de prestation</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation>Solde dû</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Échéance</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation>Les numéros de facture suivent l&apos;ordre d&apos;émission des factures</translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation>Le jour d&apos;émission de la facture&#xa0;; triez par numéro pour suivre cet ordre</translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation>Tri par compte, puis par date de facture au sein de chaque compte</translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation>Tri par société, puis par date de facture au sein de chaque compte</translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation>Le montant restant à payer sur la facture</translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation>Tri&#xa0;: d&apos;abord à payer (en retard en tête), puis payées, puis annulées</translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation>Solde dû&#xa0;: {amount}</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Rien à payer.</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Crédit du compte&#xa0;: {amount}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>Factures à &amp;payer (%n)</numerusform>
            <numerusform>Factures à &amp;payer (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>Factures pa&amp;yées (%n)</numerusform>
            <numerusform>Factures pa&amp;yées (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation>Aucune facture à payer&#xa0;: tout est réglé.</translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation>Détails de la facture</translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation>Sélectionnez une facture pour afficher ses lignes.</translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation>Facture {number} du {date}</translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation>TVA (autoliquidation)</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>TVA {rate}</translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation>En retard&#xa0;: échue le {date}.</translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation>Échéance le {date}.</translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Annulée le {date}&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation>{amount} payé le {date} par {method}.</translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation>TVA autoliquidée&#xa0;: numéro de TVA du client {vat}.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Contestée le {date}&#xa0;: {note}</translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation>Contestable jusqu&apos;au {date}.</translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation>Le délai de contestation a expiré le {date}.</translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation>virement bancaire</translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation>Une facture annulée ne peut pas être contestée.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation>Une facture peut être contestée dans les 15 jours suivant son émission&#xa0;; le dernier jour pour la facture {number} était le {date}.</translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation>La carte par défaut {method} a expiré&#xa0;; ajoutez d&apos;abord une nouvelle carte ou définissez un autre moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation>Rien n&apos;est dû sur ce compte.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Votre rôle permet de consulter ce compte, mais pas de le modifier.</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Régler le solde</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Enregistrer un virement bancaire de {amount} pour le compte {account}&#xa0;?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>Débiter {amount} sur {method} pour le compte {account}&#xa0;?</translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation>Les factures à payer sont réglées de la plus ancienne à la plus récente et le client est informé par e-mail.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Payer {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation>{amount} a été reçu par {method}.</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n facture réglée&#xa0;: {numbers}.</numerusform>
            <numerusform>%n factures réglées&#xa0;: {numbers}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation>{amount} a été porté au crédit du compte.</translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation>Solde dû maintenant&#xa0;: {amount}.</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Paiement enregistré</translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation>Une confirmation de paiement a été envoyée au client par e-mail.</translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation>La contestation a été notée sur la facture {number}.</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Préparation de la facture {number}…</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Aucune visionneuse PDF n&apos;a pu être lancée&#xa0;; la facture se trouve dans {path}.</translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation>Enregistrer la facture en PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>Fichiers PDF (*.pdf)</translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation>La facture {number} a été enregistrée dans {path}.</translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation>Enregistrement de la facture {number}…</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} is not writable. Choose another folder and save again.</source>
        <translation>La facture {number} n&apos;a pas été enregistrée&#xa0;: le dossier {folder} n&apos;est pas accessible en écriture. Choisissez un autre dossier et enregistrez-la de nouveau.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} does not exist. Choose another folder and save again.</source>
        <translation>La facture {number} n&apos;a pas été enregistrée&#xa0;: le dossier {folder} n&apos;existe pas. Choisissez un autre dossier et enregistrez-la de nouveau.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the disk is full. Free some space or choose another folder and save again.</source>
        <translation>La facture {number} n&apos;a pas été enregistrée&#xa0;: le disque est plein. Libérez de l&apos;espace ou choisissez un autre dossier, puis enregistrez-la de nouveau.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved to {folder} ({error}). Choose another folder and save again.</source>
        <translation>La facture {number} n&apos;a pas été enregistrée dans {folder} ({error}). Choisissez un autre dossier et enregistrez-la de nouveau.</translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation>Le PDF n&apos;a pas pu être écrit&#xa0;: {error}</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Annulé&#xa0;; aucun fichier n&apos;a été écrit.</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Facture PDF</translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation>Régler le &amp;solde…</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Ouvrir le P&amp;DF</translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation>&amp;Enregistrer le PDF…</translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation>&amp;Contester…</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Sous-total</translation>
    </message>
    <message>
        <source>VAT</source>
        <translation>TVA</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation>Crédit du compte utilisé</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Payé</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Montant dû</translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation>À payer</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>En retard</translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation>À payer, contestée</translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation>En retard, contestée</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Payée</translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation>Payée, contestée</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Annulée</translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation>Annulée, contestée</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>sort order of the statuses: what needs attention first A value that sorts the column correctly (ints and strings only).</extracomment>
        <translation>Numéro</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Période de prestation</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Montant dû</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (et %n de plus)</numerusform>
            <numerusform>{description} (et %n de plus)</numerusform>
        </translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Annulée le {date}&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation>Échue le {date}</translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation>Échéance le {date}</translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id. The filter bar&apos;s and the action row&apos;s widgets, built right after the first paint (:meth:`_build_filters`) or when first used, whichever comes first. painted right after the table&apos;s first page: the list is what the user waits for</extracomment>
        <translation>Le PDF n&apos;a pas pu être écrit&#xa0;: {error}</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Facture PDF</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Préparation de la facture {number}…</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Annulé&#xa0;; aucun fichier n&apos;a été écrit.</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Aucune visionneuse PDF n&apos;a pu être lancée&#xa0;; la facture se trouve dans {path}.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln facture</numerusform>
            <numerusform>%Ln factures</numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation>Aucune facture ne correspond aux filtres.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Effacer tous les filtres</translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation>Aucune facture pour le moment.</translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation>Les factures apparaissent ici dès que des commandes ou des renouvellements sont facturés.</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>&amp;Compte&#xa0;:</translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation>ID de compte ou société</translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation>Saisissez le début d&apos;un ID de compte ou d&apos;un nom de société (Ctrl+F)</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Statut&#xa0;:</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Tous les statuts</translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation>Afficher uniquement les factures ayant ce statut</translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation>En &amp;retard uniquement</translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation>Afficher uniquement les factures à payer dont l&apos;échéance est dépassée</translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation>Émises &amp;du&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation>a&amp;u&#xa0;:</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Toutes les dates</translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation>La date de la facture&#xa0;; la touche Suppr rétablit «&#xa0;Toutes les dates&#xa0;»</translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation>&amp;Effacer les filtres</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>&amp;Ouvrir le compte</translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation>Ouvrir le compte de la facture sélectionnée</translation>
    </message>
    <message>
        <source>Open account</source>
        <translation>Ouvrir le compte</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Ouvrir le &amp;PDF</translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation>Afficher la facture sélectionnée en PDF</translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation>Ouvrir le PDF</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Factures</translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation>Langue</translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation>&amp;Langue de l&apos;application&#xa0;:</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation>La nouvelle langue s&apos;applique immédiatement et à chaque démarrage. Les e-mails aux clients et les factures restent dans la langue de chaque compte.</translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation>Contact</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rôles</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation>{name} (contact de facturation)</translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n de trop pour {licences} licences</numerusform>
            <numerusform>%n de trop pour {licences} licences</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n libre sur {licences}</numerusform>
            <numerusform>%n libres sur {licences}</numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation>{product} ({plan})</translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation>{product}, formule {plan}, {status}&#xa0;: {assigned} attribuées sur {licences}</translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation>{name} recevra une licence de {product} lorsque vous appliquerez les modifications.</translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation>{name} perdra sa licence de {product} lorsque vous appliquerez les modifications.</translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation>Aucune licence de {product} n&apos;est libre. Achetez d&apos;autres licences ou retirez d&apos;abord une licence à un utilisateur.</translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation>{product}
{seats}</translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation>{name}&#xa0;: licence de {product}</translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation>Essai</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actif</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulation en attente</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Non renseigné</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation>{name} (contact de facturation)</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n modification pas encore appliquée</numerusform>
            <numerusform>%n modifications pas encore appliquées</numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation>Modifications appliquées.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Demandé par&#xa0;:</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation>Le contact qui a demandé la modification, enregistré dans l&apos;activité</translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation>&amp;Restaurer</translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation>Abandonner les modifications pas encore appliquées</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>A&amp;ppliquer</translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation>Attribuer et retirer les licences selon les cases cochées</translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation>Ce compte n&apos;a aucun abonnement en essai ou actif&#xa0;: il n&apos;y a donc aucune licence à attribuer.</translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation>Licences de chaque contact</translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation>Attribuer à tous</translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation>Cocher tous les contacts pour {product}</translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation>Attribuer {product} à tous les utilisateurs</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Tout retirer</translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation>Décocher tous les contacts pour {product}</translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation>Retirer {product} à tous les utilisateurs</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation>Administrateur</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>Assistance</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Représentant</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>Formateur</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Lecteur</translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>After the first paint, when the trainer&apos;s tools and presentation mode are added. How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation>Comptes</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Factures</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-mails</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Tableau de bord</translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the sandbox menu, simulated clock, guide and presentation mode are in place View ▸ Accounts, Invoices, … by view key View ▸ Language ▸ each language by code the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation>Opérateur&#xa0;: {name} ({role})</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Base de données&#xa0;: {name}</translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation>Aujourd&apos;hui&#xa0;: {date} (simulée)</translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation>Cette base de données utilise une date simulée, et non l&apos;horloge de l&apos;ordinateur.</translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation>Aujourd&apos;hui&#xa0;: {date}</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;Un back-office pour la facturation d&apos;abonnements logiciels.&lt;/p&gt;&lt;p&gt;Base de données&#xa0;: {database}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation>À propos de Billing Desktop</translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation>{database} (démo)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation>Ouvrir la base de &amp;démonstration</translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation>Passer à la base de démonstration contenant des comptes d&apos;exemple</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation>&amp;Rechercher un compte…</translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation>Rechercher un compte par ID, société, nom ou e-mail d&apos;un contact, ou numéro de facture</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Paramètres…</translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation>Langue, base de données, serveur de messagerie, thème et identité de l&apos;opérateur</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Langue</translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation>Afficher la &amp;navigation</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Actualiser</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>A&amp;ide</translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation>À &amp;propos de Billing Desktop</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>Navigation</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DÉMO</translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation>Une base de démonstration&#xa0;: clients fictifs et date simulée.</translation>
    </message>
</context>
<context>
    <name>MissingDatabase</name>
    <message>
        <source>The database {path} cannot be found.</source>
        <translation>La base de données {path} est introuvable.</translation>
    </message>
    <message>
        <source>It was moved or deleted, or its drive or network share is not connected. Nothing was created in its place, and Billing Desktop looks for it again at the next start. You can open the default database for now, choose another database file, or quit and connect the drive first.</source>
        <translation>Elle a été déplacée ou supprimée, ou son lecteur ou partage réseau n&apos;est pas connecté. Rien n&apos;a été créé à sa place et Billing Desktop la recherchera de nouveau au prochain démarrage. Vous pouvez ouvrir pour l&apos;instant la base de données par défaut, choisir un autre fichier de base de données, ou quitter et connecter d&apos;abord le lecteur.</translation>
    </message>
    <message>
        <source>Open the &amp;default database</source>
        <translation>Ouvrir la base de données par &amp;défaut</translation>
    </message>
    <message>
        <source>&amp;Choose another file…</source>
        <translation>&amp;Choisir un autre fichier…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>Open a database file</source>
        <translation>Ouvrir un fichier de base de données</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db)</source>
        <translation>Bases de données SQLite (*.sqlite3 *.sqlite *.db)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
</context>
<context>
    <name>OperatorAdminMenu</name>
    <message>
        <source>&amp;Operators…</source>
        <translation>&amp;Opérateurs…</translation>
    </message>
    <message>
        <source>Create operators, set their roles and assign representatives</source>
        <translation>Créer des opérateurs, définir leurs rôles et attribuer les représentants</translation>
    </message>
    <message>
        <source>Only administrators manage operators</source>
        <translation>Seuls les administrateurs gèrent les opérateurs</translation>
    </message>
</context>
<context>
    <name>OperatorFormDialog</name>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <extracomment>None: a new operator; else the operator whose password is reset the service&apos;s answer (the new or changed ``OperatorRow``) once accepted</extracomment>
        <translation>Les deux mots de passe ne sont pas identiques&#xa0;; saisissez-le de nouveau.</translation>
    </message>
    <message>
        <source>New Operator</source>
        <translation>Nouvel opérateur</translation>
    </message>
    <message>
        <source>The new operator signs in with this email address and password. Tell them the password in person or by phone, not by email.</source>
        <translation>Le nouvel opérateur se connecte avec cette adresse e-mail et ce mot de passe. Communiquez-lui le mot de passe en personne ou par téléphone, pas par e-mail.</translation>
    </message>
    <message>
        <source>&amp;Create Operator</source>
        <translation>Créer l&apos;&amp;opérateur</translation>
    </message>
    <message>
        <source>Reset Password</source>
        <translation>Réinitialiser le mot de passe</translation>
    </message>
    <message>
        <source>A new password for {name} ({email}). It also lifts a lock after failed sign-ins. Tell them the password in person or by phone, not by email.</source>
        <translation>Nouveau mot de passe pour {name} ({email}). Il lève aussi un verrouillage dû à des échecs de connexion. Communiquez-lui le mot de passe en personne ou par téléphone, pas par e-mail.</translation>
    </message>
    <message>
        <source>&amp;Set Password</source>
        <translation>&amp;Définir le mot de passe</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nom&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>Adresse &amp;e-mail&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>&amp;Rôle&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Mot de passe&#xa0;:</translation>
    </message>
    <message>
        <source>R&amp;epeat password:</source>
        <translation>&amp;Confirmer le mot de passe&#xa0;:</translation>
    </message>
    <message>
        <source>At least {count} characters, not the email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Au moins {count} caractères, et pas l&apos;adresse e-mail. Quelques mots sans rapport entre eux font un bon mot de passe, facile à retenir.</translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Votre &amp;nom&#xa0;:</translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation>Votre &amp;e-mail&#xa0;:</translation>
    </message>
    <message>
        <source>Role:</source>
        <translation>Rôle&#xa0;:</translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation>Affiché dans la barre d&apos;état et enregistré avec chaque modification que vous apportez à cette base de données.</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>&amp;Enable</source>
        <translation>&amp;Activer</translation>
    </message>
    <message>
        <source>&amp;Disable…</source>
        <translation>&amp;Désactiver…</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Vous ne pouvez pas vous désactiver vous-même&#xa0;; un autre administrateur peut le faire.</translation>
    </message>
    <message>
        <source>Created the operator {name} ({role}).</source>
        <translation>Opérateur {name} créé ({role}).</translation>
    </message>
    <message>
        <source>Change Role</source>
        <translation>Modifier le rôle</translation>
    </message>
    <message>
        <source>Role of {name}:</source>
        <translation>Rôle de {name}&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Change Role</source>
        <translation>&amp;Modifier le rôle</translation>
    </message>
    <message>
        <source>{name} is now {role}.</source>
        <translation>{name} a désormais le rôle {role}.</translation>
    </message>
    <message>
        <source>Disable Operator</source>
        <translation>Désactiver l&apos;opérateur</translation>
    </message>
    <message>
        <source>Disable {name} ({email})?</source>
        <translation>Désactiver {name} ({email})&#xa0;?</translation>
    </message>
    <message>
        <source>They can no longer sign in. Their work and the audit trail are kept, and you can enable them again at any time.</source>
        <translation>Cette personne ne pourra plus se connecter. Son travail et la piste d&apos;audit sont conservés, et vous pourrez la réactiver à tout moment.</translation>
    </message>
    <message>
        <source>&amp;Disable</source>
        <translation>&amp;Désactiver</translation>
    </message>
    <message>
        <source>Enabled {name}.</source>
        <translation>Opérateur {name} activé.</translation>
    </message>
    <message>
        <source>Disabled {name}.</source>
        <translation>Opérateur {name} désactivé.</translation>
    </message>
    <message>
        <source>Set a new password for {name}.</source>
        <translation>Nouveau mot de passe défini pour {name}.</translation>
    </message>
    <message>
        <source>There is no active representative yet. Create an operator with the role Representative first.</source>
        <translation>Il n&apos;y a encore aucun représentant actif. Créez d&apos;abord un opérateur ayant le rôle Représentant.</translation>
    </message>
    <message>
        <source>Assign Representative</source>
        <translation>Attribuer un représentant</translation>
    </message>
    <message>
        <source>Representative of {company} ({account}):</source>
        <translation>Représentant de {company} ({account})&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Assign</source>
        <translation>&amp;Attribuer</translation>
    </message>
    <message>
        <source>{account} no longer has a representative.</source>
        <translation>{account} n&apos;a plus de représentant.</translation>
    </message>
    <message>
        <source>{name} is now the representative of {account}.</source>
        <translation>{name} est désormais le représentant de {account}.</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>Opérateurs</translation>
    </message>
    <message>
        <source>&amp;Operators</source>
        <translation>&amp;Opérateurs</translation>
    </message>
    <message>
        <source>&amp;Corporate Accounts</source>
        <translation>Comptes &amp;Corporate</translation>
    </message>
    <message>
        <source>&amp;New Operator…</source>
        <translation>&amp;Nouvel opérateur…</translation>
    </message>
    <message>
        <source>Change &amp;Role…</source>
        <translation>Modifier le &amp;rôle…</translation>
    </message>
    <message>
        <source>Reset &amp;Password…</source>
        <translation>Réinitialiser le mot de &amp;passe…</translation>
    </message>
    <message>
        <source>&amp;Assign Representative…</source>
        <translation>&amp;Attribuer un représentant…</translation>
    </message>
    <message>
        <source>Re&amp;move Representative</source>
        <translation>R&amp;etirer le représentant</translation>
    </message>
    <message>
        <source>Search by company name or account ID</source>
        <translation>Rechercher par nom de société ou ID de compte</translation>
    </message>
    <message>
        <source>No corporate account matches.</source>
        <translation>Aucun compte Corporate ne correspond.</translation>
    </message>
    <message>
        <source>Corporate accounts</source>
        <translation>Comptes Corporate</translation>
    </message>
</context>
<context>
    <name>OperatorsModel</name>
    <message>
        <source>Name</source>
        <extracomment>the search waits for a pause in typing</extracomment>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rôle</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>Dernière connexion</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Désactivé</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Verrouillé</translation>
    </message>
    <message>
        <source>No password</source>
        <translation>Sans mot de passe</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actif</translation>
    </message>
    <message>
        <source>Cannot sign in until an administrator enables it.</source>
        <translation>Connexion impossible tant qu&apos;un administrateur n&apos;a pas réactivé cet opérateur.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.</source>
        <translation>Trop d&apos;échecs de connexion&#xa0;: verrouillé jusqu&apos;au {time}. La réinitialisation du mot de passe le déverrouille.</translation>
    </message>
    <message>
        <source>Has no password, so cannot sign in to a shared database. Reset the password to give one.</source>
        <translation>Aucun mot de passe&#xa0;: connexion impossible à une base de données partagée. Réinitialisez le mot de passe pour en définir un.</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Jamais</translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches.</extracomment>
        <translation>Créé le</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Destinataire</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Objet</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Tentatives</translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation>Prochaine tentative</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation>&amp;Nom de la société</translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation>&amp;Type de compte</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>A&amp;dresse</translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation>&amp;Complément d&apos;adresse</translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation>Code &amp;postal</translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation>&amp;Ville</translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation>Ré&amp;gion</translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation>Pa&amp;ys</translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation>N&amp;uméro de TVA</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Langue</translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation>D&amp;evise</translation>
    </message>
    <message>
        <source>{language} ({code})</source>
        <translation>{language} ({code})</translation>
    </message>
    <message>
        <source>{country} ({code})</source>
        <translation>{country} ({code})</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rôles</translation>
    </message>
    <message>
        <source>The billing contact may change plans and receives the invoices.</source>
        <translation>Le contact de facturation peut modifier les formules et reçoit les factures.</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation>Moyens de paiement</translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation>Activé&#xa0;: les factures de renouvellement sont réglées avec le moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation>Désactivé&#xa0;: les factures de renouvellement restent à payer jusqu&apos;à leur règlement.</translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation>{state} Vous pouvez le modifier dans {link}.</translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation>{days} jours net (les factures sont payables {days} jours après émission)</translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation>Payable à réception</translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation>Non attribué</translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation>Aucun (les comptes Standard sont en libre-service)</translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Le contact de facturation (en gras) est {name}. Les contacts et leurs licences se gèrent dans Utilisateurs et licences.</translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Le compte n&apos;a aucun contact de facturation. Les contacts et leurs licences se gèrent dans Utilisateurs et licences.</translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation>La devise ne peut pas être modifiée&#xa0;: le compte a déjà des factures ou un crédit dans cette devise.</translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation>La devise peut être modifiée jusqu&apos;à la première facture.</translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation>Aucun moyen de paiement enregistré</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Carte</translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation>{brand} se terminant par {last4}, expiration {month}/{year}</translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation>{brand} se terminant par {last4}</translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation>Compte bancaire se terminant par {last4}</translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation>Paiement sur facture</translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation>Les comptes Standard sont en libre-service&#xa0;: {name} ne sera plus leur représentant.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation>Les comptes Corporate paient sur facture et sont suivis par un représentant.</translation>
    </message>
    <message>
        <source>This account was changed by {operator} at {time}. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Ce compte a été modifié par {operator} le {time}. Vos modifications sont conservées&#xa0;; Recharger affiche les données actuelles et les abandonne.</translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Ce compte a été modifié ailleurs. Vos modifications sont conservées&#xa0;; Recharger affiche les données actuelles et les abandonne.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Adresse de facturation</translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation>Fiscalité et documents</translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation>Soldes et facturation</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Contacts</translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation>{label} *</translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation>Facultatif, ex. FR40303265045</translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation>Vérifié pour le pays de facturation pendant la saisie&#xa0;; laissez vide s&apos;il n&apos;y en a pas.</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Facultatif</translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation>Solde impayé</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Crédit du compte</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Paiement automatique</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Moyen de paiement par défaut</translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation>Conditions de paiement</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Représentant</translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation>Vous pouvez consulter ce compte, mais pas le modifier.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Enregistrer</translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation>Enregistrer les modifications (Ctrl+S)</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Restaurer</translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation>Rétablir les valeurs affichées avant vos modifications</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Recharger</translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation>Relire le compte dans la base de données&#xa0;; les modifications non enregistrées sont abandonnées</translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation>Continuez à saisir le numéro de carte.</translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation>Choisissez le mois et l&apos;année d&apos;expiration.</translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation>Continuez à saisir l&apos;IBAN.</translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation>{country} •••• {last4}</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Ajouter une carte</translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation>Seuls le réseau de la carte, les quatre derniers chiffres et la date d&apos;expiration sont conservés&#xa0;; le numéro de carte n&apos;est jamais enregistré.</translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation>&amp;Numéro de carte&#xa0;:</translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation>1234 5678 9012 3456</translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation>&amp;Expiration&#xa0;:</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>Mois</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>Année</translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation>Nom sur la &amp;carte&#xa0;:</translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation>Adresse de facturation de la carte</translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation>Laissez ces champs vides pour utiliser l&apos;adresse de facturation du compte.</translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation>&amp;Adresse&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation>Code &amp;postal&#xa0;:</translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation>&amp;Ville&#xa0;:</translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation>Code pa&amp;ys&#xa0;:</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>FR</translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation>Définir cette carte comme moyen de paiement par &amp;défaut</translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation>Ajouter un compte bancaire</translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation>Le compte est débité par prélèvement SEPA. Seuls le pays et les quatre derniers caractères de l&apos;IBAN sont conservés.</translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation>&amp;IBAN&#xa0;:</translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation>FR76 3000 6000 0112 3456 7890 189</translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation>&amp;Titulaire du compte&#xa0;:</translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation>Définir ce compte bancaire comme moyen de paiement par &amp;défaut</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>A&amp;jouter</translation>
    </message>
</context>
<context>
    <name>PaymentMethods</name>
    <message>
        <source>Visa</source>
        <translation>Visa</translation>
    </message>
    <message>
        <source>Mastercard</source>
        <translation>Mastercard</translation>
    </message>
    <message>
        <source>American Express</source>
        <translation>American Express</translation>
    </message>
    <message>
        <source>Discover</source>
        <translation>Discover</translation>
    </message>
    <message>
        <source>Maestro</source>
        <translation>Maestro</translation>
    </message>
    <message>
        <source>JCB</source>
        <translation>JCB</translation>
    </message>
    <message>
        <source>Diners Club</source>
        <translation>Diners Club</translation>
    </message>
    <message>
        <source>Card</source>
        <extracomment>Characters a card number may be typed with: digits, spaces and dashes (19 digits + gaps). An IBAN as typed: letters, digits and spaces (34 characters + gaps). Fewer digits than this and the number is still being typed: no error yet.</extracomment>
        <translation>Carte</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsModel</name>
    <message>
        <source>{brand} •••• {last4}</source>
        <translation>{brand} •••• {last4}</translation>
    </message>
    <message>
        <source>Bank account ({country}) •••• {last4}</source>
        <translation>Compte bancaire ({country}) •••• {last4}</translation>
    </message>
    <message>
        <source>Invoice (bank transfer)</source>
        <translation>Facture (virement bancaire)</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation>Moyen de paiement</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titulaire</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Expiration</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Adresse de facturation</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Par défaut</translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation>Par défaut, expiré</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Expiré</translation>
    </message>
    <message>
        <source>Autopay and Pay balance charge the default method.</source>
        <translation>Le paiement automatique et Régler le solde débitent le moyen de paiement par défaut.</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Paiement sur facture (%n jour net)</numerusform>
            <numerusform>Paiement sur facture (%n jours net)</numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation>Les comptes Corporate sont facturés selon leurs conditions de paiement&#xa0;; les cartes et comptes bancaires ne servent que lors de l&apos;enregistrement d&apos;un paiement.</translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation>Les factures de renouvellement sont immédiatement débitées sur le moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation>Les factures de renouvellement restent à payer jusqu&apos;à leur règlement par le client.</translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation>Aucun moyen de paiement enregistré.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Votre rôle permet de consulter ce compte, mais pas de le modifier.</translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation>Une carte expirée ne peut pas être le moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation>C&apos;est déjà le moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>Nothing was changed: {operator} changed this account at {time}. The list now shows the current data.</source>
        <translation>Rien n&apos;a été modifié&#xa0;: {operator} a modifié ce compte le {time}. La liste affiche maintenant les données actuelles.</translation>
    </message>
    <message>
        <source>Nothing was changed: this account was changed elsewhere. The list now shows the current data.</source>
        <translation>Rien n&apos;a été modifié&#xa0;: ce compte a été modifié ailleurs. La liste affiche maintenant les données actuelles.</translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation>{method} a été ajouté.</translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation>{method} est désormais le moyen de paiement par défaut.</translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation>Supprimer le moyen de paiement</translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation>Supprimer {method} de ce compte&#xa0;?</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Supprimer</translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation>{method} a été supprimé.</translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation>Le paiement automatique est activé.</translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation>Le paiement automatique est désactivé.</translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation>&amp;Paiement automatique&#xa0;: débiter les renouvellements sur le moyen de paiement par défaut</translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation>Ajouter une &amp;carte…</translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation>Ajouter un compte &amp;bancaire…</translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation>Définir par &amp;défaut</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>&amp;Supprimer…</translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation>&amp;Utiliser le moyen de paiement enregistré&#xa0;: {method}</translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation>Numéro de TVA valide&#xa0;: l&apos;autoliquidation s&apos;applique, aucune TVA n&apos;est facturée (0&#xa0;%).</translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation>Numéro de TVA valide&#xa0;: une TVA de {rate} est facturée.</translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation>Paiement et TVA</translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation>Saisissez vos informations de paiement et/ou ajoutez votre numéro de TVA, puis cliquez sur Passer la commande.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation>Moyen de paiement</translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation>Saisir une &amp;nouvelle carte</translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation>Saisir un &amp;compte bancaire (prélèvement SEPA)</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Numéro de TVA</translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation>Un numéro de TVA valide d&apos;un autre pays de l&apos;UE que celui du vendeur entraîne l&apos;autoliquidation&#xa0;: aucune TVA n&apos;est ajoutée.</translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation>Numéro de T&amp;VA&#xa0;:</translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation>ex. FR40303265045</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Passer la c&amp;ommande</translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation>Aucune modification n&apos;est possible pour le moment.</translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation>Corrigez votre choix pour afficher la commande.</translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation>Choisissez une autre formule, un autre nombre de licences, une autre fréquence de facturation ou un module complémentaire pour voir le coût de la modification.</translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation>La modification prend effet aujourd&apos;hui.</translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation>Formule&#xa0;:</translation>
    </message>
    <message>
        <source>{old} → {new}</source>
        <translation>{old} → {new}</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licences&#xa0;:</translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation>Fréquence de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation>Nouvelle période de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation>Montant pour la période&#xa0;:</translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation>Crédit pour les jours non utilisés&#xa0;:</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (autoliquidation)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>TVA&#xa0;:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Total dû maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation>Porté au crédit du compte&#xa0;:</translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation>La page de vérification affiche la facture exacte.</translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Votre panier contient %n produit.</numerusform>
            <numerusform>Votre panier contient %n produits.</numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation>Votre panier est vide.</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Passer au pa&amp;iement</translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation>&amp;Ajouter au panier</translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation>Modification de produit ou de licences pour le compte {account}</translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation>Sélectionnez votre formule</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation>L&apos;essai gratuit de {product} est terminé. Choisissez le niveau de formule, le nombre de licences et la fréquence de facturation pour vous abonner.</translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation>Choisissez le niveau de formule, le nombre de licences et la fréquence de facturation de {product}.</translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation>Modifiez la formule de {product}&#xa0;: niveau supérieur, plus ou moins de licences, autre fréquence de facturation ou modules complémentaires. Les modifications prennent effet aujourd&apos;hui.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Demandé par&#xa0;:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation>{name} &lt;{email}&gt; — contact de facturation</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation>Le contact qui a demandé la modification, enregistré avec la commande</translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation>Vous agissez avec des droits back-office&#xa0;: un niveau de formule inférieur peut être choisi, et la commande est enregistrée comme une modification back-office.</translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation>&amp;E-mail à l&apos;administrateur de facturation</translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation>Régler le &amp;solde</translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation>&amp;Niveau de formule</translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation>&amp;Licences&#xa0;:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n licence attribuée à des utilisateurs</numerusform>
            <numerusform>%n licences attribuées à des utilisateurs</numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation>&amp;Gérer les licences</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Fréquence de facturation</translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation>&amp;Mensuelle</translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation>Ann&amp;uelle</translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation>M&amp;odules complémentaires</translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation>Récapitulatif de la commande</translation>
    </message>
    <message>
        <source>Cart</source>
        <translation>Panier</translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation>&amp;Voir le panier</translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation>{plan} — {price} (formule actuelle)</translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation>{plan} — {price}</translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation>{addon} — {price} (inclus)</translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation>{addon} — {price}</translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation>non vendu en {currency}</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. Each language by its own name (never translated: a reader looks for their own). The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation>Saisissez un fichier de base de données ou l&apos;URL d&apos;un serveur.</translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation>Saisissez le chemin complet du fichier de base de données, et non {path}.</translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation>{path} est un dossier, et non un fichier de base de données.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>Le dossier {folder} n&apos;existe pas.</translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation>Ce n&apos;est pas une URL de base de données. Écrivez-la sous la forme postgresql://utilisateur:motdepasse@serveur:5432/base.</translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation>Une base de données SQLite doit être un fichier.</translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation>Les bases de données {scheme} ne sont pas prises en charge. Utilisez un fichier SQLite ou un serveur PostgreSQL (postgresql://…).</translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation>L&apos;URL doit comporter un nom de serveur après //.</translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation>L&apos;URL doit comporter un nom de base de données après le serveur (/base).</translation>
    </message>
</context>
<context>
    <name>PresentationController</name>
    <message>
        <source>&amp;Presentation</source>
        <extracomment>The scales offered, in per cent. dynamic properties holding a widget&apos;s unscaled sizes while the mode is on QFont::SizeResolved (PySide does not expose QFont::ResolveProperties) Class fonts a platform theme may set (QApplication&apos;s initializeWidgetFontHash). Qt&apos;s own helper buttons, sized by their owner: never rescaled MainWindow&apos;s navigation: item height = line height + this, width ≥ this minimum (the formula of ``MainWindow.__init__`` / ``_fit_navigation``) How often the customer view re-reads its account while shown (a moved clock). the caption shown now (&quot;&quot; when none) where the mouse was last pressed (window coordinates) keys that do something rather than type: named even in a text field typed text kept in a caption</extracomment>
        <translation>&amp;Présentation</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>&amp;Mode présentation</translation>
    </message>
    <message>
        <source>Enlarge the whole window for a projector or a screen share</source>
        <translation>Agrandir toute la fenêtre pour un vidéoprojecteur ou un partage d&apos;écran</translation>
    </message>
    <message>
        <source>&amp;Scale</source>
        <translation>&amp;Zoom</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent}&#xa0;%</translation>
    </message>
    <message>
        <source>Show &amp;Clicks and Keys</source>
        <translation>Afficher les &amp;clics et les touches</translation>
    </message>
    <message>
        <source>Show where the mouse is clicked and which keys are pressed</source>
        <translation>Afficher l&apos;emplacement des clics de souris et les touches utilisées</translation>
    </message>
    <message>
        <source>C&amp;ustomer View</source>
        <translation>&amp;Vue client</translation>
    </message>
    <message>
        <source>Show the open account&apos;s Billing Center as its billing contact sees it</source>
        <translation>Afficher le Centre de facturation du compte ouvert tel que son contact de facturation le voit</translation>
    </message>
    <message>
        <source>Customer View</source>
        <translation>Vue client</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation>Traitement des renouvellements</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation>ID de compte {text}</translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation>Nom de la société {text}</translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation>Contact {text}</translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation>E-mail du contact {text}</translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation>Facture {text}</translation>
    </message>
    <message>
        <source>{account}  {company}</source>
        <translation>{account}  {company}</translation>
    </message>
    <message>
        <source>{account}, {company}, {match}</source>
        <translation>{account}, {company}, {match}</translation>
    </message>
</context>
<context>
    <name>QuickSearchDialog</name>
    <message>
        <source>Type an account ID, a company name, a contact&apos;s name or email, or an invoice number.</source>
        <extracomment>The user chose an account; carries its id.</extracomment>
        <translation>Saisissez un ID de compte, un nom de société, le nom ou l&apos;e-mail d&apos;un contact, ou un numéro de facture.</translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation>Aucun compte ne correspond à «&#xa0;{text}&#xa0;».</translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>Le premier compte trouvé. Précisez la saisie pour affiner la recherche.</numerusform>
            <numerusform>Les %n premiers comptes trouvés. Précisez la saisie pour affiner la recherche.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n compte trouvé. Entrée ouvre le compte sélectionné.</numerusform>
            <numerusform>%n comptes trouvés. Entrée ouvre le compte sélectionné.</numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation>Rechercher un compte</translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation>ID de compte, société, nom ou e-mail du contact, numéro de facture</translation>
    </message>
    <message>
        <source>Find account</source>
        <translation>Rechercher un compte</translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation>Comptes trouvés</translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation>Cet abonnement est introuvable.</translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation>{product} a été réactivé&#xa0;: l&apos;essai se poursuit jusqu&apos;au {date}. Un e-mail de confirmation a été envoyé.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation>{product} a été réactivé. La prochaine date de facturation est le {date}. Un e-mail de confirmation a été envoyé.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation>{product} a été réactivé. Un e-mail de confirmation a été envoyé.</translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation>Réactiver l&apos;abonnement</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Réactiver</translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation>&amp;Maintenir l&apos;annulation</translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation>Réactiver {product}&#xa0;?</translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation>L&apos;essai se poursuit jusqu&apos;au {date}&#xa0;; il n&apos;est plus annulé.</translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation>{product} est de nouveau renouvelé automatiquement. La prochaine date de facturation est le {date}.</translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation>{product} est de nouveau renouvelé automatiquement.</translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation>Sans réactivation, il expire le {date}.</translation>
    </message>
</context>
<context>
    <name>RenewalsModel</name>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation>Renouvellement le</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation>E-mail&#xa0;:</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>Rôles&#xa0;:</translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation>Contact de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Oui</translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation>Habilité à annuler&#xa0;:</translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation>Oui, pour les produits achetés par l&apos;intermédiaire d&apos;un représentant</translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation>{product}&#xa0;: {rule}</translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation>Rien n&apos;est encore sélectionné.</translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation>Choisissez le contact qui fait la demande pour savoir s&apos;il y est habilité.</translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation>{contact} n&apos;est pas habilité à demander l&apos;annulation de {product}. {rule}</translation>
    </message>
    <message>
        <source>Requester</source>
        <translation>Demandeur</translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation>Étape 2 sur 6&#xa0;: quel contact demande l&apos;annulation, et y est-il habilité&#xa0;?</translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation>Seuls certains rôles peuvent demander à l&apos;assistance d&apos;annuler un produit. Choisissez le contact qui appelle&#xa0;; la règle de chaque produit à annuler est vérifiée.</translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation>&amp;Contact demandeur&#xa0;:</translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation>Qui peut faire la demande</translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation>Choisissez un contact…</translation>
    </message>
    <message>
        <source>{name} ({roles}), {email}</source>
        <translation>{name} ({roles}), {email}</translation>
    </message>
</context>
<context>
    <name>ResultPage</name>
    <message numerus="yes">
        <source>%n item(s) cancelled. Auto-renewal is off.</source>
        <translation>
            <numerusform>%n élément annulé. Le renouvellement automatique est désactivé.</numerusform>
            <numerusform>%n éléments annulés. Le renouvellement automatique est désactivé.</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}&#xa0;:</translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation>actif jusqu&apos;au {date}, encore facturé {amount}</translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation>{number}&#xa0;: {amount}, réglé avec le moyen de paiement enregistré</translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation>{number}&#xa0;: {amount}, à payer</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Facture de résiliation anticipée&#xa0;:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Facturé maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation>Rien&#xa0;: la période en cours a déjà été facturée.</translation>
    </message>
    <message>
        <source>Email:</source>
        <translation>E-mail&#xa0;:</translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n e-mail de confirmation envoyé à {email}</numerusform>
            <numerusform>%n e-mails de confirmation envoyés à {email}</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annulé</translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation>L&apos;annulation est enregistrée et le client a été informé par e-mail.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Fermer</translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation>Commande&#xa0;:</translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation>Facture&#xa0;:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licence (au lieu de {old})</numerusform>
            <numerusform>%n licences (au lieu de {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licence</numerusform>
            <numerusform>%n licences</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}&#xa0;:</translation>
    </message>
    <message>
        <source>{plan}, {licences}, {billing}</source>
        <translation>{plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>Next billing date:</source>
        <translation>Prochaine date de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Total&#xa0;:</translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation>Débité maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation>{amount} sur {method}</translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation>À régler au plus tard le {date}&#xa0;:</translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation>Porté au crédit du compte&#xa0;:</translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation>Un e-mail de confirmation contenant les détails de votre achat a été envoyé à {email}.</translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation>Votre abonnement a été mis à jour. La période de facturation commence aujourd&apos;hui et la date de facturation correspond désormais au jour de la modification.</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Commande passée</translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation>Les modifications prennent effet immédiatement.</translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation>Vous avez ajouté des licences&#xa0;: n&apos;oubliez pas de les attribuer à vos utilisateurs pour qu&apos;ils puissent se connecter.</translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation>&amp;Attribuer les licences maintenant</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <translation>Moyen de paiement&#xa0;: {method}</translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation>Confirmez ensuite les informations de paiement et/ou le numéro de TVA.</translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation>Finaliser la transaction</translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation>Vérifiez la période de facturation (qui commence aujourd&apos;hui), les licences, le prix de la formule et le total dû. Cliquez sur Modifier la commande pour apporter d&apos;autres modifications.</translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation>Votre commande&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation>&amp;Modifier la commande</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Passer au pa&amp;iement</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Passer la c&amp;ommande</translation>
    </message>
</context>
<context>
    <name>SandboxMenu</name>
    <message>
        <source>New Demo Database</source>
        <extracomment>open (or re-open) the database file at this path in the GUI session the open demo database&apos;s content was replaced (reset, snapshot restored) reset and snapshots copy the demo database&apos;s file: not for a demo on a server the actions in the File menu, in order</extracomment>
        <translation>Nouvelle base de démonstration</translation>
    </message>
    <message>
        <source>Billing Desktop databases (*.sqlite3)</source>
        <translation>Bases de données Billing Desktop (*.sqlite3)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>“{file}” already exists. Replace it with a new demo database?</source>
        <translation>«&#xa0;{file}&#xa0;» existe déjà. Voulez-vous le remplacer par une nouvelle base de démonstration&#xa0;?</translation>
    </message>
    <message>
        <source>If it is a demo database, everything done in it is replaced by the curated demo accounts. Any other file is left untouched.</source>
        <translation>S&apos;il s&apos;agit d&apos;une base de démonstration, tout ce qui y a été fait est remplacé par les comptes de démonstration prédéfinis. Tout autre fichier reste intact.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Remplacer</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>Création de la base de démonstration…</translation>
    </message>
    <message>
        <source>Everything done in it is lost: orders, cancellations, licence and payment changes, emails and operators added.</source>
        <translation>Tout ce qui y a été fait est perdu&#xa0;: commandes, annulations, modifications de licences et de paiements, e-mails et opérateurs ajoutés.</translation>
    </message>
    <message>
        <source>The simulated date goes back from {today} to {start}.</source>
        <translation>La date simulée revient du {today} au {start}.</translation>
    </message>
    <message>
        <source>The simulated date stays at {start}.</source>
        <translation>La date simulée reste au {start}.</translation>
    </message>
    <message>
        <source>Snapshots are kept.</source>
        <translation>Les instantanés sont conservés.</translation>
    </message>
    <message>
        <source>Reset Demo Database</source>
        <translation>Réinitialiser la base de démonstration</translation>
    </message>
    <message>
        <source>Reset the demo database “{database}” to the curated demo accounts?</source>
        <translation>Réinitialiser la base de démonstration «&#xa0;{database}&#xa0;» avec les comptes de démonstration prédéfinis&#xa0;?</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>&amp;Réinitialiser</translation>
    </message>
    <message>
        <source>Resetting the demo database…</source>
        <translation>Réinitialisation de la base de démonstration…</translation>
    </message>
    <message>
        <source>&amp;New Demo Database…</source>
        <translation>&amp;Nouvelle base de démonstration…</translation>
    </message>
    <message>
        <source>Create a fresh demo database with the curated sample accounts and open it</source>
        <translation>Créer une nouvelle base de démonstration avec les comptes d&apos;exemple prédéfinis et l&apos;ouvrir</translation>
    </message>
    <message>
        <source>&amp;Reset Demo Database…</source>
        <translation>&amp;Réinitialiser la base de démonstration…</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>Réinitialiser…</translation>
    </message>
    <message>
        <source>Return the demo database to the curated accounts of its first day</source>
        <translation>Ramener la base de démonstration aux comptes prédéfinis de son premier jour</translation>
    </message>
    <message>
        <source>Sna&amp;pshots…</source>
        <translation>&amp;Instantanés…</translation>
    </message>
    <message>
        <source>Snapshots…</source>
        <translation>Instantanés…</translation>
    </message>
    <message>
        <source>Save the demo database&apos;s state under a name and return to it later</source>
        <translation>Enregistrer l&apos;état de la base de démonstration sous un nom pour y revenir plus tard</translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n licence</numerusform>
            <numerusform>{product} {plan}, %n licences</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation>Annulation uniquement par l&apos;assistance.</translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation>Le contact de facturation pourrait aussi l&apos;annuler en ligne.</translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation>Module complémentaire&#xa0;: {addon}</translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation>Prend fin avec le produit.</translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation>Avec cette sélection, les conditions suivantes ne sont pas encore remplies&#xa0;: {conditions}. Revenez en arrière pour les régler, ou modifiez la sélection.</translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation>Éléments à annuler</translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation>Étape 4 sur 6&#xa0;: les produits et modules complémentaires que l&apos;appelant souhaite annuler.</translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation>Cochez chaque produit ou module complémentaire à annuler. Les modules complémentaires d&apos;un produit prennent fin avec lui&#xa0;; un module complémentaire peut aussi être annulé seul.</translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation>Saisissez le nom de la société.</translation>
    </message>
    <message>
        <source>Choose the account type.</source>
        <translation>Choisissez le type de compte.</translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation>Saisissez l&apos;adresse.</translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation>Saisissez le code postal.</translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation>Saisissez la ville.</translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation>Choisissez le pays.</translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation>Choisissez la langue.</translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation>Choisissez la devise.</translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation>Ce champ dépasse {max} caractères.</translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation>{value} n&apos;est pas un type de compte.</translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation>Les documents ne peuvent pas être rédigés en {language}.</translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation>La devise du compte {account} ne peut pas être modifiée&#xa0;: il a déjà des factures ou un crédit en {currency}.</translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation>Le catalogue ne contient aucun prix en {currency}.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation>Les comptes Corporate paient sur facture&#xa0;: désactivez le paiement automatique du compte {account} (Moyens de paiement) avant d&apos;en faire un compte Corporate.</translation>
    </message>
    <message>
        <source>The account</source>
        <translation>Le compte</translation>
    </message>
    <message>
        <source>Account</source>
        <extracomment>Entries per page unless the caller asks for another size. The most one call returns, whatever ``limit`` says. the field did not exist before (a creation) / does not exist after (a removal) the product of the subscription the entry is about, if any the account&apos;s currency, for fields holding minor units (``…_minor``) fields whose value changed, in the order they were recorded
----------
``session.info`` key: the id of the account the use case loaded first ``session.info`` key: rows whose version must move on with the transaction&apos;s writes :func:`last_change` key for the operators&apos; own changes (audited without an account)
----------
Subscription statuses that are &quot;bought&quot; and can be changed through checkout. ids of the stored items making up this line (to remove the line) pass back as ``expected_cart_version``; ``None`` while the account has no cart the stored row this change is (None: not stored yet) set: the add-on was cancelled and ends on this date (see cancellation) licences assigned to contacts in the order of ``Subscription.addons`` (by add-on) by id, as ``Account.contacts`` and ``Account.payment_methods`` by position (ORM attributes: a session executing it flushes pending changes first) every subscription of the account with its product, plan, assigned licences and add-ons (one row per add-on)</extracomment>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Only support staff can do this.</source>
        <extracomment>reset a demo database, save, restore and delete its snapshots (services.sandbox) Read-only actions every active role may perform. Actions that change one account; the account rules of SPEC §6 apply. Support-only powers behind the self-service flows (SPEC §3): not for representatives, who work on their own portfolio through the normal flows.</extracomment>
        <translation>Seule l&apos;équipe d&apos;assistance peut effectuer cette action.</translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation>Votre rôle ({role}) ne permet pas cette action.</translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation>L&apos;horloge ne peut être avancée que dans une base de démonstration.</translation>
    </message>
    <message>
        <source>Only a demo database can be reset or returned to a snapshot; this database was left unchanged.</source>
        <translation>Seule une base de démonstration peut être réinitialisée ou ramenée à un instantané&#xa0;; cette base de données n&apos;a pas été modifiée.</translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the range</extracomment>
        <translation>Abonnement</translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation>Le compte {account} n&apos;a aucun contact de facturation.</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Contact</translation>
    </message>
    <message>
        <source>The subscription</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation>L&apos;abonnement</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``) &quot;To move to a lower plan, contact Customer Care&quot; when the product has a lower tier that cannot be chosen online and the contact may otherwise edit the plan whom the view is shown as (the billing contact unless another was asked for) every contact of the account, the billing contact first the message above the cards when this contact cannot make changes at all (representative, billing admin, overdue invoice, expired account); ``None`` otherwise the live products (cancelled ones are under ``discover``), in catalog order what the open invoices still ask for (the Billing Center&apos;s *Pay balance*) The role of the rules context: one that no operator-role limit refuses, so the Subscriptions tab&apos;s card function reports only what the account&apos;s state decides.</extracomment>
        <translation>{product} ne peut pas être annulé en ligne. Veuillez contacter l&apos;assistance pour l&apos;annuler.</translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation>{product} n&apos;a aucune annulation en attente à révoquer.</translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation>{product} a expiré le {effective_end} et ne peut plus être réactivé. Abonnez-vous de nouveau.</translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation>Les mois restants de {product} ont été facturés sur la facture de résiliation anticipée {invoice}&#xa0;; la réactivation n&apos;est possible qu&apos;après l&apos;annulation de cette facture par l&apos;assistance.</translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation>L&apos;annulation ne peut pas avoir lieu tant que ces conditions ne sont pas remplies&#xa0;: {conditions}.</translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation>{product} est déjà annulé&#xa0;; il prend fin le {effective_end}.</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation>{product} ne peut pas être annulé&#xa0;: il n&apos;est plus actif.</translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation>Choisissez un motif d&apos;annulation.</translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation>{reason} ne fait pas partie des motifs d&apos;annulation.</translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation>Précisez le motif de l&apos;annulation.</translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation>Le motif ne doit pas dépasser {maximum} caractères.</translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation>{product} n&apos;a pas de période de facturation en cours.</translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation>Le contrat n&apos;a pas été annulé au moins 30 jours avant son terme ({term_end})&#xa0;: il est donc renouvelé pour une nouvelle durée et reste actif, et facturé, jusqu&apos;au {effective_end}.</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Module complémentaire</translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation>Choisissez au moins un produit ou un module complémentaire à annuler.</translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation>{addon} a déjà été annulé.</translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation>{addon} ne peut pas être annulé seul pendant un essai.</translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation>Les informations de l&apos;appelant ne correspondent pas ({items})&#xa0;; vérifiez de nouveau l&apos;appelant.</translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation>L&apos;appelant n&apos;a pas encore été vérifié.</translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation>La vérification n&apos;est pas valable pour ce compte ou a expiré&#xa0;; vérifiez de nouveau l&apos;appelant.</translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation>L&apos;appelant a été vérifié le {at}.</translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation>Choisissez le contact qui demande l&apos;annulation.</translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation>{contact} est habilité à demander cette annulation.</translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation>Le compte présente un solde impayé de {amount}&#xa0;; il doit être réglé avant l&apos;annulation.</translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation>Aucun impayé sur le compte.</translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation>Passez en revue avec l&apos;appelant le type de contrat, la date de fin et les conditions d&apos;annulation de chaque produit.</translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation>{count} licences sont encore attribuées à des utilisateurs ({products})&#xa0;; retirez-les d&apos;abord.</translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation>Aucune licence n&apos;est attribuée à des utilisateurs.</translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation>L&apos;appelant a confirmé que les données sont sauvegardées.</translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation>Confirmez que les données du client ont été sauvegardées&#xa0;; proposez une exportation des données du compte.</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de compte</translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation>E-mail de l&apos;administrateur de facturation</translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation>Quatre derniers chiffres du moyen de paiement</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Adresse de facturation</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Code postal</translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation>Appelant vérifié</translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation>Demandeur habilité à annuler</translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation>Aucun solde impayé</translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation>Conditions du contrat examinées</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licences retirées</translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation>Données sauvegardées</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Vérifier l&apos;appelant</translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation>Choisir un autre contact</translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation>Enregistrer un paiement</translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation>Retirer les licences</translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation>Exporter les données du compte</translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled) added by the order: new ones, or cancelled ones again cancelled add-ons added again that are paid for the current period: credited for its unused days like the running ones (the new period bills them again); one not added again simply runs out at its ``ends_on``, neither credited nor billed</extracomment>
        <translation>{frequency} n&apos;est pas une fréquence de facturation.</translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation>{product} n&apos;a pas de formule {plan}.</translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation>{product} n&apos;a pas de module complémentaire {addon}.</translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation>Le nombre de licences doit être un nombre entier.</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation>{kind} n&apos;est pas un type d&apos;article de panier.</translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation>L&apos;abonnement n&apos;est pas une formule {product}.</translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation>{product} a pris fin. Abonnez-vous de nouveau pour l&apos;utiliser.</translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation>{product} est en cours d&apos;annulation. Réactivez-le avant de modifier la formule.</translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation>Un abonnement {product} existe déjà. Modifiez l&apos;abonnement pour le changer.</translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation>{product} inclut déjà {addon}.</translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation>Choisissez la nouvelle valeur pour {product}.</translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation>Cela ne modifie pas l&apos;abonnement.</translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation>Contactez votre représentant, {name}, pour modifier les produits ou les licences</translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation>Le compte {account} est clôturé.</translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation>{product} {plan} ne peut pas être acheté en {currency}.</translation>
    </message>
    <message>
        <source>The cart</source>
        <translation>Le panier</translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation>Article du panier</translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited the version of the subscription as priced (``None``: a new subscription); see :attr:`OrderPreview.subscription_versions` version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to charge exactly the method shown, even if the default changed since corporate: invoiced on payment terms instead of charged the account data the figures were computed with: pass it to ``place_order(expected_account_terms=...)`` so that the order is refused (:class:`ConflictError`) if one of them changed since this preview licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them ``next_period`` (a pure function of its arguments; its periods are immutable)</extracomment>
        <translation>Saisissez une carte ou un compte bancaire&#xa0;: aucun moyen de paiement valide n&apos;est enregistré.</translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation>Confirmez le moyen de paiement du nouvel abonnement.</translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation>Confirmez le moyen de paiement&#xa0;: la nouvelle formule est plus chère.</translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation>Ajoutez le numéro de TVA si la société en possède un&#xa0;; sinon, une TVA de {rate}&#xa0;% ({country}) est facturée.</translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation>L&apos;essai gratuit de {product} se termine aujourd&apos;hui au lieu du {trial_end}&#xa0;: l&apos;abonnement payant commence maintenant.</translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation>{product} reste sous contrat à durée déterminée jusqu&apos;au {term_end}.</translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation>Après la commande, attribuez les nouvelles licences {product} aux utilisateurs.</translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation>{amount} est porté au crédit du compte et servira à régler les prochaines factures.</translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation>La commande est facturée, payable sous {days} jours.</translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation>Le bon de commande {po} a expiré le {expiry}.</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation>Le panier est vide&#xa0;: il n&apos;y a rien à commander.</translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>the SET clause comes from the values given (always the same columns) moves the version of a subscription the order checked but did not otherwise update checks (and locks) an account row the order does not otherwise change at its version</extracomment>
        <translation>Le jeton de commande doit comporter de 1 à {max} caractères.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)</extracomment>
        <translation>Moyen de paiement</translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation>{method} ne peut pas être débité&#xa0;: choisissez un autre moyen de paiement.</translation>
    </message>
    <message>
        <source>The order</source>
        <translation>La commande</translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation>Ce jeton de commande a déjà été utilisé pour une autre commande.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation>Les comptes Corporate paient sur facture selon leurs conditions de paiement, et non par carte.</translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation>L&apos;horloge ne peut qu&apos;avancer&#xa0;: le {date} est antérieur à la date actuelle ({today}).</translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation>Facture</translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation>{what} {key} introuvable&#xa0;; l&apos;élément a peut-être été supprimé.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} at {changed_at} — reload to see the current data. Your input is kept.</source>
        <translation>{what}&#xa0;: une modification a été faite par {changed_by} le {changed_at} — rechargez pour voir les données actuelles. Votre saisie est conservée.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} in the meantime — reload to see the current data. Your input is kept.</source>
        <translation>{what}&#xa0;: une modification a été faite entre-temps par {changed_by} — rechargez pour voir les données actuelles. Votre saisie est conservée.</translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation>{what}&#xa0;: une modification a été faite entre-temps par quelqu&apos;un d&apos;autre&#xa0;; rechargez pour voir les données actuelles. Votre saisie est conservée.</translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation>L&apos;exportation n&apos;a pas pu être écrite dans {path}&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>The invoice</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>La facture</translation>
    </message>
    <message>
        <source>The invoice recipients</source>
        <translation>Les destinataires des factures</translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation>Renseignez le champ «&#xa0;{what}&#xa0;».</translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation>Le champ «&#xa0;{what}&#xa0;» dépasse {max} caractères.</translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation>{status} n&apos;est pas un statut de facture.</translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation>note de contestation</translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation>La facture {invoice} est annulée et ne peut pas être contestée.</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>motif</translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation>Seules les factures à payer peuvent être annulées&#xa0;; la facture {invoice} a le statut {status}.</translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation>Des paiements ont été enregistrés sur la facture {invoice}&#xa0;: elle ne peut pas être annulée.</translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation>{email} n&apos;est pas une adresse e-mail valide.</translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation>Les factures peuvent être envoyées à {max} adresses au maximum en plus du contact de facturation&#xa0;; {count} ont été indiquées.</translation>
    </message>
    <message>
        <source>The licence assignments</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Les attributions de licences</translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). the subscription&apos;s version, for ``expected_version`` of assign/unassign contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op) the subscription&apos;s version after the call (for the next ``expected_version``)</extracomment>
        <translation>{value} n&apos;est pas un identifiant de contact.</translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation>{contact} est un contact d&apos;un autre compte et ne peut pas détenir de licence du compte {account}.</translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation>Les licences de {product} ne peuvent pas être attribuées&#xa0;: statut de l&apos;abonnement&#xa0;: {status}.</translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation>Seules {free} des {licences} licences de {product} sont libres&#xa0;; {requested} contacts devaient en recevoir une. Achetez d&apos;autres licences ou retirez-en d&apos;abord.</translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>The roles an operator can have, most powerful first (SPEC §6). At most this many corporate accounts per list (the search narrows it down). has a password, so can sign in to a shared database sign-in refused until then after repeated failures (None: not locked) corporate accounts assigned to this operator as representative
----------
``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation>Opérateur</translation>
    </message>
    <message>
        <source>You are no longer an active administrator of this database; sign in again to continue.</source>
        <translation>Vous n&apos;êtes plus administrateur actif de cette base de données&#xa0;; reconnectez-vous pour continuer.</translation>
    </message>
    <message>
        <source>{name} is the last active administrator. Make another operator an administrator first.</source>
        <translation>{name} est le dernier administrateur actif. Attribuez d&apos;abord le rôle Administrateur à un autre opérateur.</translation>
    </message>
    <message>
        <source>{role} is not an operator role.</source>
        <translation>{role} n&apos;est pas un rôle d&apos;opérateur.</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Vous ne pouvez pas vous désactiver vous-même&#xa0;; un autre administrateur peut le faire.</translation>
    </message>
    <message>
        <source>Only corporate accounts have a representative; {account} is a standard account.</source>
        <translation>Seuls les comptes Corporate ont un représentant&#xa0;; {account} est un compte Standard.</translation>
    </message>
    <message>
        <source>{name} is not a representative. Only operators with the role Representative can be assigned corporate accounts.</source>
        <translation>{name} n&apos;est pas représentant. Seuls les opérateurs ayant le rôle Représentant peuvent se voir attribuer des comptes Corporate.</translation>
    </message>
    <message>
        <source>{name} is disabled and cannot be assigned accounts.</source>
        <translation>Aucun compte ne peut être attribué à {name}&#xa0;: cet opérateur est désactivé.</translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation>Saisissez votre nom.</translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation>Le nom ne doit pas dépasser {max} caractères.</translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation>Votre identité d&apos;opérateur</translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation>Un autre opérateur utilise déjà l&apos;adresse e-mail {email}.</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>The payment methods</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Les moyens de paiement</translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation>Saisissez le nom du titulaire du compte.</translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation>Le nom du titulaire dépasse {max} caractères.</translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation>La carte {method} a expiré en {month:02d}/{year}&#xa0;; ajoutez une nouvelle carte.</translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation>{country} n&apos;est pas un code pays à deux lettres (ex. FR, BE).</translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation>Un champ d&apos;adresse dépasse {max} caractères.</translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation>{method} est le seul moyen de paiement du compte {account}, qui règle ses abonnements automatiquement. Ajoutez d&apos;abord un autre moyen de paiement ou désactivez le paiement automatique.</translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation>Le compte Corporate {account} paie sur facture selon ses conditions de paiement&#xa0;; le paiement automatique ne peut pas être activé.</translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation>Ajoutez une carte ou un compte bancaire au compte {account} avant d&apos;activer le paiement automatique.</translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation>La référence de paiement dépasse {max} caractères.</translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation>Le compte {account} n&apos;a rien à payer.</translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation>Le compte {account} est facturé en {currency}&#xa0;; un paiement en {other} ne peut pas être enregistré.</translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation>Un paiement doit être supérieur à zéro.</translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the subscription, or None for an overdue event (which concerns the account) the renewal invoice issued (renewals), and its status (``paid`` or ``open``) that invoice&apos;s total the email queued for it (trial ending, trial ended, renewal invoice) renewals: the end of the period (or term) now running; None when none follows overdue events: how many open invoices fell overdue the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None every event processed, in processing order (only with ``advance(details=True)``) ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) the event it is the outcome of (set by ``_Engine._apply``) the email each kind of event queues (when its outcome counts one) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation>Sur une base de données réelle, les renouvellements ne peuvent être traités que jusqu&apos;à aujourd&apos;hui ({today}), et non jusqu&apos;au {date}.</translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation>{product} n&apos;est pas vendu en {currency}.</translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused), if any: translatable why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text`` when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation>La sécurité de la connexion doit être Aucune, STARTTLS ou SSL/TLS.</translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation>{host} n&apos;est pas un nom de serveur valide.</translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>Le port doit être un nombre compris entre 1 et 65535.</translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation>L&apos;adresse de l&apos;expéditeur {address} n&apos;est pas une adresse e-mail valide.</translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation>Un mot de passe nécessite un nom d&apos;utilisateur.</translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation>Le délai d&apos;attente doit être compris entre 1 et 600 secondes.</translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <translation>Le serveur {server} a refusé le nom d&apos;utilisateur ou le mot de passe ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation>Le serveur a refusé le destinataire {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation>Le serveur a refusé l&apos;adresse de l&apos;expéditeur {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation>Le serveur {server} ne prend pas en charge la sécurité de connexion ou l&apos;authentification choisie ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation>Le serveur {server} a fermé la connexion ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation>Le serveur {server} a répondu {reply}.</translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation>La connexion sécurisée à {server} a échoué ({detail}).</translation>
    </message>
    <message>
        <source>The email has no recipient address.</source>
        <translation>L&apos;e-mail n&apos;a aucune adresse de destinataire.</translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation>Le serveur {server} n&apos;a pas répondu dans les {seconds} secondes.</translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation>Le nom de serveur {host} est introuvable ({detail}).</translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation>Aucune réponse de {server}. Vérifiez que le serveur de messagerie fonctionne et que le nom du serveur et le port sont corrects.</translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation>Impossible de se connecter à {server} ({detail}).</translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation>L&apos;envoi a échoué ({detail}).</translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation>Saisissez d&apos;abord le nom du serveur de messagerie.</translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation>{address} n&apos;est pas une adresse e-mail valide pour l&apos;e-mail de test.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation>L&apos;essai gratuit de {product} est terminé. Cliquez sur S&apos;abonner maintenant pour acheter une formule.</translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation>S&apos;abonner maintenant est proposé à la fin d&apos;un essai gratuit&#xa0;; {product} n&apos;est pas un essai terminé.</translation>
    </message>
    <message>
        <source>{database} is not a demo database. Resets, snapshots and new demo data are only for demo databases; it was left unchanged.</source>
        <extracomment>seconds a reset or restore waits for another connection&apos;s write to finish</extracomment>
        <translation>{database} n&apos;est pas une base de démonstration. Les réinitialisations, les instantanés et les nouvelles données de démonstration sont réservés aux bases de démonstration&#xa0;; elle n&apos;a pas été modifiée.</translation>
    </message>
    <message>
        <source>The demo database {database} is busy with another change. Wait until it has finished and try again; nothing was replaced.</source>
        <translation>La base de démonstration {database} est occupée par une autre modification. Attendez qu&apos;elle soit terminée et réessayez&#xa0;; rien n&apos;a été remplacé.</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists.</source>
        <translation>Un instantané nommé «&#xa0;{name}&#xa0;» existe déjà.</translation>
    </message>
    <message>
        <source>Demo databases and snapshots need a database file; {database} is on a server.</source>
        <translation>Les bases de démonstration et les instantanés nécessitent un fichier de base de données&#xa0;; {database} se trouve sur un serveur.</translation>
    </message>
    <message>
        <source>The snapshot “{name}” cannot be restored: its file is missing, damaged or from another version of Billing Desktop. The demo database was left unchanged.</source>
        <translation>L&apos;instantané «&#xa0;{name}&#xa0;» ne peut pas être restauré&#xa0;: son fichier est manquant, endommagé ou provient d&apos;une autre version de Billing Desktop. La base de démonstration n&apos;a pas été modifiée.</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <extracomment>the &quot;what&quot; of NotFound for a snapshot, translated by the UI</extracomment>
        <translation>Instantané</translation>
    </message>
    <message>
        <source>Give the snapshot a name.</source>
        <extracomment>the file&apos;s name inside :func:`snapshot_folder` when it was saved (the computer&apos;s clock) the demo&apos;s simulated date at that moment</extracomment>
        <translation>Donnez un nom à l&apos;instantané.</translation>
    </message>
    <message>
        <source>A snapshot name can have at most {max} characters.</source>
        <translation>Le nom d&apos;un instantané ne doit pas dépasser {max} caractères.</translation>
    </message>
    <message>
        <source>This is a real database: it has no simulated time, so its clock cannot be moved. Open a demo database to move the clock.</source>
        <extracomment>how far one move may take the clock: a date years away would run every renewal of every year on the way (and dates near 9999 cannot be computed at all) the events &quot;to next event&quot; stops at (issue 7: renewal, trial end, cancellation end, term end); notices, overdue invoices and data retention happen on the way</extracomment>
        <translation>Il s&apos;agit d&apos;une base de données réelle&#xa0;: elle n&apos;a pas de date simulée, son horloge ne peut donc pas être avancée. Ouvrez une base de démonstration pour avancer l&apos;horloge.</translation>
    </message>
    <message>
        <source>The clock only moves forward: choose a date after {today}, not {date}.</source>
        <extracomment>what each engine event appears as (a renewal also as an invoice and an email) invoiced (and renewed): the invoice, its status (``paid``/``open``) and total renewed / term renewed: the end of the new period or term (None: the last one) emailed: the email&apos;s kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``), its recipient and row id overdue: how many of the account&apos;s invoices fell overdue that day the date before the move … … the date asked for … … and the date now (the one asked for, unless the run was cancelled midway) the trainer cancelled: what was done until then is kept, the clock stopped at ``clock`` events that failed (left out, retried by the next move) the engine&apos;s own summary (counts) the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order renewals: the total of the invoice it will issue (as things stand now)</extracomment>
        <translation>L&apos;horloge ne peut qu&apos;avancer&#xa0;: choisissez une date postérieure au {today}, et non le {date}.</translation>
    </message>
    <message>
        <source>The clock moves at most {years} years at a time: choose a date until {latest}, not {date}.</source>
        <translation>L&apos;horloge avance d&apos;au plus {years} ans à la fois&#xa0;: choisissez une date jusqu&apos;au {latest}, et non le {date}.</translation>
    </message>
    <message>
        <source>The email address or the password is not correct.</source>
        <extracomment>Seconds every refused attempt waits before it answers. Consecutive wrong passwords that lock the operator. The first lock; each further wrong password doubles it … … up to this. Long passphrases are welcome; this only keeps a pasted file out. OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations. ``app_settings`` key written with the first administrator: a second concurrent :func:`create_first_admin` fails on its primary key.</extracomment>
        <translation>L&apos;adresse e-mail ou le mot de passe est incorrect.</translation>
    </message>
    <message>
        <source>This operator has been disabled. Ask an administrator to enable it again.</source>
        <translation>Cet opérateur a été désactivé. Demandez à un administrateur de le réactiver.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins. Try again in {minutes} min.</source>
        <translation>Trop d&apos;échecs de connexion. Réessayez dans {minutes}&#xa0;min.</translation>
    </message>
    <message>
        <source>This database already has an administrator. Sign in with your email address and password, or ask an administrator to create your operator.</source>
        <translation>Cette base de données a déjà un administrateur. Connectez-vous avec votre adresse e-mail et votre mot de passe, ou demandez à un administrateur de créer votre accès opérateur.</translation>
    </message>
    <message>
        <source>The password must have at least {min} characters.</source>
        <extracomment>Passwords long enough but guessed first by anyone (folded, without spaces).</extracomment>
        <translation>Le mot de passe doit comporter au moins {min} caractères.</translation>
    </message>
    <message>
        <source>The password may have at most {max} characters.</source>
        <translation>Le mot de passe peut comporter au plus {max} caractères.</translation>
    </message>
    <message>
        <source>The password must not be the email address.</source>
        <translation>Le mot de passe ne doit pas être l&apos;adresse e-mail.</translation>
    </message>
    <message>
        <source>The password must not be the operator&apos;s name.</source>
        <translation>Le mot de passe ne doit pas être le nom de l&apos;opérateur.</translation>
    </message>
    <message>
        <source>This password is too easy to guess. A few unrelated words make a good password.</source>
        <translation>Ce mot de passe est trop facile à deviner. Quelques mots sans rapport entre eux font un bon mot de passe.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>&amp;System</source>
        <translation>S&amp;ystème</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>&amp;Clair</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>&amp;Sombre</translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation>L&apos;apparence et les couleurs de votre bureau.</translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation>Texte foncé sur fond clair.</translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation>Texte clair sur fond sombre, plus confortable la nuit.</translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation>Aucune (texte en clair)</translation>
    </message>
    <message>
        <source>STARTTLS</source>
        <translation>STARTTLS</translation>
    </message>
    <message>
        <source>SSL/TLS</source>
        <translation>SSL/TLS</translation>
    </message>
    <message>
        <source>Settings</source>
        <extracomment>The user chose another database (a file path or a URL); switch to it now. The language was applied (&quot;it&quot;; &quot;&quot; for the system&apos;s language). The theme was applied (&quot;system&quot;, &quot;light&quot;, &quot;dark&quot;). The operator&apos;s name or email changed; carries the new ``OperatorInfo``.</extracomment>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Pages des paramètres</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Creating the administrator…</source>
        <extracomment>QSettings key: the email of the last operator who signed in on this computer the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts the machine&apos;s time (whole seconds, as the services&apos; system clock) the signed-in operator once the dialog accepted</extracomment>
        <translation>Création de l&apos;administrateur…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Enter your name, email address and a password.</source>
        <translation>Saisissez votre nom, votre adresse e-mail et un mot de passe.</translation>
    </message>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <translation>Les deux mots de passe ne sont pas identiques&#xa0;; saisissez-le de nouveau.</translation>
    </message>
    <message>
        <source>Enter your email address and password.</source>
        <translation>Saisissez votre adresse e-mail et votre mot de passe.</translation>
    </message>
    <message>
        <source>The database server did not answer. Check the network connection and try again.</source>
        <translation>Le serveur de base de données n&apos;a pas répondu. Vérifiez la connexion réseau et réessayez.</translation>
    </message>
    <message>
        <source>Sign In — Billing Desktop</source>
        <translation>Connexion — Billing Desktop</translation>
    </message>
    <message>
        <source>Set up the first administrator</source>
        <translation>Configurer le premier administrateur</translation>
    </message>
    <message>
        <source>Nobody can sign in to this shared database yet. Create the first administrator: you sign in with this email address and password, and can then add the other operators.</source>
        <translation>Personne ne peut encore se connecter à cette base de données partagée. Créez le premier administrateur&#xa0;: vous vous connecterez avec cette adresse e-mail et ce mot de passe, puis pourrez ajouter les autres opérateurs.</translation>
    </message>
    <message>
        <source>Create &amp;Administrator</source>
        <translation>Créer l&apos;&amp;administrateur</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Se connecter</translation>
    </message>
    <message>
        <source>This database is shared by a team. Sign in with your operator account.</source>
        <translation>Cette base de données est partagée par une équipe. Connectez-vous avec vos identifiants d&apos;opérateur.</translation>
    </message>
    <message>
        <source>&amp;Sign In</source>
        <translation>&amp;Se connecter</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Base de données&#xa0;: {name}</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nom&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>Adresse &amp;e-mail&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Mot de passe&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>&amp;Confirmer le mot de passe&#xa0;:</translation>
    </message>
    <message>
        <source>At least {count} characters, not your email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Au moins {count} caractères, et pas votre adresse e-mail. Quelques mots sans rapport entre eux font un bon mot de passe, facile à retenir.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
</context>
<context>
    <name>SmtpPage</name>
    <message>
        <source>Mail server</source>
        <translation>Serveur de messagerie</translation>
    </message>
    <message>
        <source>Billing Desktop test email</source>
        <translation>E-mail de test Billing Desktop</translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation>Ceci est un e-mail de test envoyé par Billing Desktop.

Vous l&apos;avez reçu&#xa0;: les paramètres du serveur de messagerie fonctionnent. Les e-mails aux clients seront envoyés via {server}.</translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation>Envoi de l&apos;e-mail de test…</translation>
    </message>
    <message>
        <source>Test email</source>
        <translation>E-mail de test</translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation>Envoi d&apos;un e-mail de test à {address}…</translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation>L&apos;e-mail de test a été envoyé à {address}. Vérifiez qu&apos;il est bien arrivé.</translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation>Le test a été annulé.</translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation>Corrigez les paramètres ci-dessus, puis renvoyez l&apos;e-mail de test.</translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation>Serveur de messagerie (SMTP)</translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation>&amp;Serveur&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port&#xa0;:</translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation>Sé&amp;curité&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>Nom d&apos;&amp;utilisateur&#xa0;:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>&amp;Mot de passe&#xa0;:</translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation>&amp;Adresse de l&apos;expéditeur&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation>&amp;Délai d&apos;attente&#xa0;:</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation> s</translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation>Laissez vide pour conserver les e-mails dans la boîte d&apos;envoi, sans les envoyer.</translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation>vide si le serveur ne demande pas d&apos;authentification</translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation>Votre rôle ne permet pas de modifier le serveur de messagerie&#xa0;; adressez-vous à un administrateur.</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Test</translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation>Envo&amp;yer à&#xa0;:</translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation>Envoyer un e-mail de &amp;test</translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation>Envoyer un e-mail avec les paramètres ci-dessus, enregistrés ou non</translation>
    </message>
</context>
<context>
    <name>SnapshotsDialog</name>
    <message>
        <source>Save Current State</source>
        <extracomment>a value to sort by (text, datetime or ISO date) a snapshot was restored into the open database (carries its ``SnapshotInfo``)</extracomment>
        <translation>Enregistrer l&apos;état actuel</translation>
    </message>
    <message>
        <source>Name of the snapshot:</source>
        <translation>Nom de l&apos;instantané&#xa0;:</translation>
    </message>
    <message>
        <source>State on {date}</source>
        <translation>État au {date}</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Enregistrer</translation>
    </message>
    <message>
        <source>Saved the snapshot “{name}”.</source>
        <translation>L&apos;instantané «&#xa0;{name}&#xa0;» a été enregistré.</translation>
    </message>
    <message>
        <source>Replace Snapshot</source>
        <translation>Remplacer l&apos;instantané</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists. Replace it with the current state?</source>
        <translation>Un instantané nommé «&#xa0;{name}&#xa0;» existe déjà. Voulez-vous le remplacer par l&apos;état actuel&#xa0;?</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Remplacer</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot. The simulated date goes back to {date}.</source>
        <translation>Tout ce qui a été fait depuis son enregistrement est perdu, sauf s&apos;il figure dans un autre instantané. La date simulée revient au {date}.</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot.</source>
        <translation>Tout ce qui a été fait depuis son enregistrement est perdu, sauf s&apos;il figure dans un autre instantané.</translation>
    </message>
    <message>
        <source>Restore Snapshot</source>
        <translation>Restaurer l&apos;instantané</translation>
    </message>
    <message>
        <source>Return the demo database to the snapshot “{name}”?</source>
        <translation>Ramener la base de démonstration à l&apos;instantané «&#xa0;{name}&#xa0;»&#xa0;?</translation>
    </message>
    <message>
        <source>&amp;Restore</source>
        <translation>&amp;Restaurer</translation>
    </message>
    <message>
        <source>Delete Snapshot</source>
        <translation>Supprimer l&apos;instantané</translation>
    </message>
    <message>
        <source>Delete the snapshot “{name}”?</source>
        <translation>Supprimer l&apos;instantané «&#xa0;{name}&#xa0;»&#xa0;?</translation>
    </message>
    <message>
        <source>The demo database itself does not change.</source>
        <translation>La base de démonstration elle-même n&apos;est pas modifiée.</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Supprimer</translation>
    </message>
    <message>
        <source>Deleted the snapshot “{name}”.</source>
        <translation>L&apos;instantané «&#xa0;{name}&#xa0;» a été supprimé.</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>Instantanés</translation>
    </message>
    <message>
        <source>A snapshot keeps the demo database as it is now, so you can return to it and repeat a scene.</source>
        <translation>Un instantané conserve la base de démonstration dans son état actuel, pour que vous puissiez y revenir et rejouer une scène.</translation>
    </message>
    <message>
        <source>No snapshots yet. Save the current state to come back to it later.</source>
        <translation>Aucun instantané pour le moment. Enregistrez l&apos;état actuel pour y revenir plus tard.</translation>
    </message>
    <message>
        <source>&amp;Save Current State…</source>
        <translation>&amp;Enregistrer l&apos;état actuel…</translation>
    </message>
    <message>
        <source>Only administrators and trainers can save and restore snapshots.</source>
        <translation>Seuls les administrateurs et les formateurs peuvent enregistrer et restaurer des instantanés.</translation>
    </message>
</context>
<context>
    <name>SnapshotsModel</name>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Taken</source>
        <translation>Créé le</translation>
    </message>
    <message>
        <source>Simulated date</source>
        <translation>Date simulée</translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation>Aucun remboursement&#xa0;: ce qui a déjà été facturé n&apos;est pas remboursé, et les produits restent utilisables jusqu&apos;aux dates ci-dessus.</translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation>L&apos;essai se termine simplement le {date}&#xa0;; rien n&apos;est facturé.</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>En cas d&apos;annulation avant le terme du contrat, les mois restants sont tout de même facturés&#xa0;: la période en cours, déjà facturée, et %n mois supplémentaire sur une facture de résiliation anticipée. Le produit reste actif jusqu&apos;à la date de fin initiale, le {date}.</numerusform>
            <numerusform>En cas d&apos;annulation avant le terme du contrat, les mois restants sont tout de même facturés&#xa0;: la période en cours, déjà facturée, et %n mois supplémentaires sur une facture de résiliation anticipée. Le produit reste actif jusqu&apos;à la date de fin initiale, le {date}.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation>En cas d&apos;annulation en cours d&apos;année, l&apos;année entière est facturée (elle l&apos;a été dès son début) et le produit reste actif jusqu&apos;au {date}.</translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation>En cas d&apos;annulation en cours de mois, le mois entier est facturé (il l&apos;a été dès son début) et le produit reste actif jusqu&apos;à la fin du mois, le {date}.</translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n mois</numerusform>
            <numerusform>%n mois</numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation>Contrat&#xa0;:</translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation>Période en cours&#xa0;:</translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation>Période en cours, déjà facturée&#xa0;:</translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation>Mois restants, facturés maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation>Mois encore facturés&#xa0;:</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Encore facturé&#xa0;:</translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation>Actif jusqu&apos;au&#xa0;:</translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation>Remboursement&#xa0;:</translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation>Données supprimées le&#xa0;:</translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation>Total encore facturé&#xa0;:</translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation>Facturé maintenant pour les mois restants (HT)&#xa0;:</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Facture de résiliation anticipée&#xa0;:</translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation>Aucune&#xa0;: rien de plus n&apos;est facturé.</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (autoliquidation)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>TVA&#xa0;:</translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation>Total de la facture de résiliation anticipée&#xa0;:</translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation>Crédit du compte utilisé&#xa0;:</translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation>Dû maintenant&#xa0;:</translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation>Ce qui reste facturé</translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation>Étape 5 sur 6&#xa0;: ce que le client paie encore, et jusqu&apos;à quand le produit reste actif.</translation>
    </message>
    <message>
        <source>In total</source>
        <translation>Au total</translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>&amp;Edit subscription</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow.</extracomment>
        <translation>&amp;Modifier l&apos;abonnement</translation>
    </message>
    <message>
        <source>&amp;Cancel subscription</source>
        <translation>&amp;Annuler l&apos;abonnement</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Réactiver</translation>
    </message>
    <message>
        <source>&amp;Subscribe now</source>
        <translation>&amp;S&apos;abonner maintenant</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>Essai</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Essai terminé</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actif</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulation en attente</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annulé</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensuelle</translation>
    </message>
    <message>
        <source>Annually</source>
        <translation>Annuelle</translation>
    </message>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation>Expire le {date}</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Options</translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation>Options de {product}</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Formule</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licences</translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation>{assigned} attribuées sur {total}</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Fréquence de facturation</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>Contrat</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Modules complémentaires</translation>
    </message>
    <message>
        <source>{product}, {status}</source>
        <translation>{product}, {status}</translation>
    </message>
    <message>
        <source>Press Space or Enter for the options.</source>
        <translation>Appuyez sur Espace ou Entrée pour afficher les options.</translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation>Durée déterminée de {months} mois, se termine le {date}</translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation>Durée déterminée, se termine le {date}</translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation>Sans engagement</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fin de l&apos;essai le</translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation>Essai terminé le</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Terminé le</translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation>Prochaine date de facturation</translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation>Aucune&#xa0;: il ne sera pas renouvelé</translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation>Le préavis a expiré le {deadline}&#xa0;: le contrat sera renouvelé pour une nouvelle durée le {end}.</translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation>Le contrat sera renouvelé le {end}, sauf annulation au plus tard le {deadline}.</translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation>Ce compte n&apos;a encore aucun abonnement.</translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Panier&#xa0;: %n article</numerusform>
            <numerusform>Panier&#xa0;: %n articles</numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Découvrir d&apos;autres produits</translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation>Produits que ce compte a annulés ou n&apos;a jamais achetés.</translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation>&amp;Voir le panier</translation>
    </message>
</context>
<context>
    <name>ThemePage</name>
    <message>
        <source>Theme</source>
        <translation>Thème</translation>
    </message>
</context>
<context>
    <name>UpcomingPanel</name>
    <message>
        <source>Renewal</source>
        <extracomment>rows listed (the next events, earliest first) what each engine event is called in the panel (``EventKind`` values)</extracomment>
        <translation>Renouvellement</translation>
    </message>
    <message>
        <source>Contract term ends and renews</source>
        <translation>Fin et renouvellement du contrat</translation>
    </message>
    <message>
        <source>Cancellation takes effect</source>
        <translation>Prise d&apos;effet de l&apos;annulation</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fin de l&apos;essai</translation>
    </message>
    <message>
        <source>“Trial ending” email</source>
        <translation>E-mail «&#xa0;Essai bientôt terminé&#xa0;»</translation>
    </message>
    <message>
        <source>Invoice falls overdue</source>
        <translation>Facture en retard</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Données marquées pour suppression</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Événement</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Compte</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Société</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produit</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
    <message>
        <source>Invoice {number} falls overdue</source>
        <translation>La facture {number} passe en retard</translation>
    </message>
    <message>
        <source>The renewal invoice&apos;s total as the subscription stands today</source>
        <translation>Le total de la facture de renouvellement selon l&apos;abonnement actuel</translation>
    </message>
    <message>
        <source>Nothing is due after {date}.</source>
        <extracomment>a row was activated: the account&apos;s id set once the panel has data (or tried); reloads are explicit after that</extracomment>
        <translation>Aucune échéance après le {date}.</translation>
    </message>
    <message>
        <source>What the next moves of the clock will do, after {date}:</source>
        <translation>Ce que produiront les prochaines avancées de l&apos;horloge, après le {date}&#xa0;:</translation>
    </message>
    <message>
        <source>Upcoming Events</source>
        <translation>Événements à venir</translation>
    </message>
    <message>
        <source>&amp;Upcoming Events</source>
        <translation>Événements à &amp;venir</translation>
    </message>
    <message>
        <source>Show what the next moves of the simulated clock will do</source>
        <translation>Afficher ce que produiront les prochaines avancées de l&apos;horloge simulée</translation>
    </message>
    <message>
        <source>Upcoming events</source>
        <translation>Événements à venir</translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the versions of the selected subscriptions, read just before the checklist page&apos;s checklist (what &quot;Unassign all&quot; sends: optimistic locking) the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation>{mark} Correspond</translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation>{mark} {sentence}</translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation>{mark} L&apos;appelant est vérifié ({time}). Continuez avec Suivant.</translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation>L&apos;appelant n&apos;a pas pu être vérifié. Informations non concordantes&#xa0;: {fields}.</translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>%n tentative de vérification a échoué. Cela a été enregistré dans l&apos;activité du compte. N&apos;allez pas plus loin&#xa0;: demandez à l&apos;administrateur de facturation de rappeler.</numerusform>
            <numerusform>%n tentatives de vérification consécutives ont échoué. Cela a été enregistré dans l&apos;activité du compte. N&apos;allez pas plus loin&#xa0;: demandez à l&apos;administrateur de facturation de rappeler.</numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation>La tentative {attempt} sur {limit} a échoué. Vérifiez les informations avec l&apos;appelant.</translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation>L&apos;ID de compte ne correspond pas.</translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation>Ce n&apos;est pas l&apos;e-mail d&apos;un administrateur de facturation du compte.</translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation>Aucune carte ni aucun compte bancaire enregistré ne se termine par ces chiffres.</translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation>L&apos;adresse de facturation ne correspond pas à celle du moyen de paiement.</translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation>Le code postal ne correspond pas à celui du moyen de paiement.</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Vérifier l&apos;appelant</translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation>Étape 1 sur 6&#xa0;: avant toute chose, assurez-vous que l&apos;appelant est bien la personne qu&apos;il prétend être.</translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation>Demandez ces informations à l&apos;appelant et saisissez ses réponses. Elles sont comparées au compte {account}&#xa0;; seul le résultat de chaque comparaison est enregistré, jamais les réponses elles-mêmes.</translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation>&amp;ID de compte&#xa0;:</translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation>&amp;E-mail de l&apos;administrateur de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation>&amp;Quatre derniers chiffres du moyen de paiement&#xa0;:</translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation>A&amp;dresse de facturation (numéro et rue)&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation>C&amp;ode postal de l&apos;adresse de facturation&#xa0;:</translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation>ex. A-100001</translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation>4 chiffres</translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation>&amp;Vérifier l&apos;appelant</translation>
    </message>
</context>
<context>
    <name>Walkthroughs</name>
    <message>
        <source>{account} was not opened: the account shown has unsaved changes.</source>
        <extracomment>conditions that are states: they count when they already hold as the step becomes current the English source sentence (context &quot;Walkthroughs&quot;) with {placeholders} what &quot;Show me&quot; points at: an objectName path, alternatives separated by &quot;|&quot; (the first one on screen wins); ``{product}`` is the walkthrough&apos;s product the warning&apos;s English source (&quot;&quot; when the scene is ready) what the service said: the card&apos;s reason, or the error reading the cards</extracomment>
        <translation>Le compte {account} n&apos;a pas été ouvert&#xa0;: le compte affiché contient des modifications non enregistrées.</translation>
    </message>
    <message>
        <source>{account} no longer shows this scene. Reset the demo database to play it again.</source>
        <translation>Le compte {account} ne présente plus cette scène. Réinitialisez la base de démonstration pour la rejouer.</translation>
    </message>
    <message>
        <source>Open {company} ({account}) on its Subscriptions tab: one card per product, as on the Subscriptions page of the Billing Center.</source>
        <extracomment>the seed article (&quot;000&quot;); the curated account whose scenario starts with &quot;Article 000&quot; tells the story the catalog code of the product the story is about the card action the scene needs (&quot;cancel&quot;, &quot;edit&quot;, &quot;subscribe&quot;): when the account&apos;s card no longer offers it, Prepare says so the account page&apos;s tab Prepare opens</extracomment>
        <translation>Ouvrez {company} ({account}) sur son onglet Abonnements&#xa0;: une carte par produit, comme sur la page Abonnements du Centre de facturation.</translation>
    </message>
    <message>
        <source>Click the options icon (⋮) in the top-right corner of the {product} card.</source>
        <translation>Cliquez sur l&apos;icône des options (⋮) dans le coin supérieur droit de la carte {product}.</translation>
    </message>
    <message>
        <source>Cancel a subscription online</source>
        <translation>Annuler un abonnement en ligne</translation>
    </message>
    <message>
        <source>Help article 000: the billing contact of {company} ({account}) stops the automatic renewal of {product}.</source>
        <translation>Article d&apos;aide 000&#xa0;: le contact de facturation de {company} ({account}) arrête le renouvellement automatique de {product}.</translation>
    </message>
    <message>
        <source>The card now says Cancellation pending. Until the plan expires, Reactivate in the options menu keeps it. A free trial without billing information needs none of this: it simply expires.</source>
        <translation>La carte indique désormais Annulation en attente. Jusqu&apos;à l&apos;expiration de la formule, Réactiver dans le menu des options permet de la conserver. Un essai gratuit sans informations de facturation ne nécessite rien de tout cela&#xa0;: il expire simplement.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription.</source>
        <translation>Choisissez Annuler l&apos;abonnement.</translation>
    </message>
    <message>
        <source>Go through the confirmation with the customer: the plan stays active until the end of the paid period and is then not renewed. Choose who asks and why, then click Yes, cancel.</source>
        <translation>Parcourez la confirmation avec le client&#xa0;: la formule reste active jusqu&apos;à la fin de la période payée, puis n&apos;est pas renouvelée. Indiquez qui fait la demande et pourquoi, puis cliquez sur Oui, annuler.</translation>
    </message>
    <message>
        <source>The result shows the expiry date and the confirmation email sent to the billing contact. Click Close.</source>
        <translation>Le résultat affiche la date d&apos;expiration et l&apos;e-mail de confirmation envoyé au contact de facturation. Cliquez sur Fermer.</translation>
    </message>
    <message>
        <source>Remove user licences</source>
        <translation>Supprimer des licences utilisateur</translation>
    </message>
    <message>
        <source>Help article 001: {company} ({account}) pays for more {product} licences than it needs and removes some.</source>
        <translation>Article d&apos;aide 001&#xa0;: {company} ({account}) paie plus de licences {product} que nécessaire et en supprime quelques-unes.</translation>
    </message>
    <message>
        <source>The change took effect at once: the unused days of the removed licences became a credit on the account, and the billing date moved to today.</source>
        <translation>La modification a pris effet immédiatement&#xa0;: les jours non utilisés des licences supprimées ont été portés au crédit du compte, et la date de facturation a été ramenée à aujourd&apos;hui.</translation>
    </message>
    <message>
        <source>Choose Edit subscription: the checkout opens on the current plan.</source>
        <translation>Choisissez Modifier l&apos;abonnement&#xa0;: la commande s&apos;ouvre sur la formule actuelle.</translation>
    </message>
    <message>
        <source>Lower the number of licences (not below those assigned to users) and click Add to cart.</source>
        <translation>Réduisez le nombre de licences (sans descendre en dessous de celles attribuées à des utilisateurs) et cliquez sur Ajouter au panier.</translation>
    </message>
    <message>
        <source>The cart shows the change. Click Checkout.</source>
        <translation>Le panier affiche la modification. Cliquez sur Passer au paiement.</translation>
    </message>
    <message>
        <source>On Complete transaction, check the billing period (it starts today), the licences, the plan price, the credit for the unused days and the total, then click Place order.</source>
        <translation>Sur la page Finaliser la transaction, vérifiez la période de facturation (qui commence aujourd&apos;hui), les licences, le prix de la formule, le crédit pour les jours non utilisés et le total, puis cliquez sur Passer la commande.</translation>
    </message>
    <message>
        <source>The result shows the new billing date and the confirmation email. Click Close.</source>
        <translation>Le résultat affiche la nouvelle date de facturation et l&apos;e-mail de confirmation. Cliquez sur Fermer.</translation>
    </message>
    <message>
        <source>Cancel through support</source>
        <translation>Annuler via l&apos;assistance</translation>
    </message>
    <message>
        <source>Help article 002: {product} is cancelled only through support. A billing admin of {company} ({account}) calls to cancel it.</source>
        <translation>Article d&apos;aide 002&#xa0;: {product} ne peut être annulé que par l&apos;assistance. Un administrateur de facturation de {company} ({account}) appelle pour l&apos;annuler.</translation>
    </message>
    <message>
        <source>The card says Cancellation pending: {product} stays active, and billed, until the agreement ends, and then moves to Discover other products.</source>
        <translation>La carte indique Annulation en attente&#xa0;: {product} reste actif, et facturé, jusqu&apos;à la fin du contrat, puis passe dans Découvrir d&apos;autres produits.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription: {product} cannot be cancelled online, so the assisted cancellation opens.</source>
        <translation>Choisissez Annuler l&apos;abonnement&#xa0;: {product} ne pouvant pas être annulé en ligne, l&apos;annulation assistée s&apos;ouvre.</translation>
    </message>
    <message>
        <source>Verify the caller: enter the account ID, the billing admin&apos;s email, the last four digits of the payment card and its billing address as the caller gives them, click Verify, then Next.</source>
        <translation>Vérifiez l&apos;appelant&#xa0;: saisissez l&apos;ID de compte, l&apos;e-mail de l&apos;administrateur de facturation, les quatre derniers chiffres de la carte de paiement et son adresse de facturation tels que l&apos;appelant les indique, cliquez sur Vérifier l&apos;appelant, puis sur Suivant.</translation>
    </message>
    <message>
        <source>Choose who is asking: only a super admin or a billing admin may ask to cancel. Click Next.</source>
        <translation>Choisissez qui fait la demande&#xa0;: seul un super-administrateur ou un administrateur de facturation peut demander l&apos;annulation. Cliquez sur Suivant.</translation>
    </message>
    <message>
        <source>Before you cancel: pay the open balance, unassign the licences and export the account&apos;s data (or confirm that the caller has a backup) until every item is ticked, then click Next.</source>
        <translation>Avant l&apos;annulation&#xa0;: réglez le solde impayé, retirez les licences et exportez les données du compte (ou confirmez que l&apos;appelant dispose d&apos;une sauvegarde) jusqu&apos;à ce que chaque condition soit cochée, puis cliquez sur Suivant.</translation>
    </message>
    <message>
        <source>Check what will be cancelled and click Next.</source>
        <translation>Vérifiez les éléments à annuler et cliquez sur Suivant.</translation>
    </message>
    <message>
        <source>Tell the caller what is still billed: the agreement stays active, and is billed, until its end date, without a refund. Click Next.</source>
        <translation>Indiquez à l&apos;appelant ce qui reste facturé&#xa0;: le contrat reste actif, et facturé, jusqu&apos;à sa date de fin, sans remboursement. Cliquez sur Suivant.</translation>
    </message>
    <message>
        <source>Choose the reason and click Cancel subscriptions.</source>
        <translation>Choisissez le motif et cliquez sur Annuler les abonnements.</translation>
    </message>
    <message>
        <source>The result lists what was cancelled, the invoice for the rest of the agreement and the confirmation email. Click Close.</source>
        <translation>Le résultat indique ce qui a été annulé, la facture pour le reste du contrat et l&apos;e-mail de confirmation. Cliquez sur Fermer.</translation>
    </message>
    <message>
        <source>Subscribe when the free trial ends</source>
        <translation>S&apos;abonner à la fin de l&apos;essai gratuit</translation>
    </message>
    <message>
        <source>Help article 003: the {product} trial of {company} ({account}) ended without a charge. The billing contact turns it into a paid plan.</source>
        <translation>Article d&apos;aide 003&#xa0;: l&apos;essai de {product} de {company} ({account}) s&apos;est terminé sans frais. Le contact de facturation le convertit en formule payante.</translation>
    </message>
    <message>
        <source>The plan is active from today and the Users &amp; licences tab is open to assign the seats. A trial that nobody converts simply expires, without a charge.</source>
        <translation>La formule est active à partir d&apos;aujourd&apos;hui et l&apos;onglet Utilisateurs et licences est ouvert pour attribuer les licences. Un essai que personne ne convertit expire simplement, sans frais.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended: its card says Trial ended and offers Subscribe now. Click Subscribe now.</source>
        <translation>L&apos;essai gratuit de {product} est terminé&#xa0;: sa carte indique Essai terminé et propose S&apos;abonner maintenant. Cliquez sur S&apos;abonner maintenant.</translation>
    </message>
    <message>
        <source>Change the plan tier, the number of licences or the billing frequency if you like, then click Checkout.</source>
        <translation>Modifiez si vous le souhaitez le niveau de formule, le nombre de licences ou la fréquence de facturation, puis cliquez sur Passer au paiement.</translation>
    </message>
    <message>
        <source>Review the order on Complete transaction (Edit order goes back to change it) and click Checkout.</source>
        <translation>Vérifiez la commande sur la page Finaliser la transaction (Modifier la commande permet de revenir en arrière pour la changer) et cliquez sur Passer au paiement.</translation>
    </message>
    <message>
        <source>Enter the payment card and the account&apos;s VAT number, then click Place order.</source>
        <translation>Saisissez la carte de paiement et le numéro de TVA du compte, puis cliquez sur Passer la commande.</translation>
    </message>
    <message>
        <source>The result confirms the purchase. Click Assign licences now to give the new seats to users.</source>
        <translation>Le résultat confirme l&apos;achat. Cliquez sur Attribuer les licences maintenant pour attribuer les nouvelles licences aux utilisateurs.</translation>
    </message>
    <message>
        <source>Change the plan</source>
        <translation>Modifier la formule</translation>
    </message>
    <message>
        <source>Help article 004: {company} ({account}) upgrades {product} to a higher tier, more licences or another billing period.</source>
        <translation>Article d&apos;aide 004&#xa0;: {company} ({account}) fait évoluer {product} vers un niveau supérieur, davantage de licences ou une autre période de facturation.</translation>
    </message>
    <message>
        <source>The new plan applies from today and the rest of the old period was prorated. A lower tier is not offered online: the wizard says to contact Customer Care.</source>
        <translation>La nouvelle formule s&apos;applique à partir d&apos;aujourd&apos;hui et le reste de l&apos;ancienne période a été calculé au prorata. Un niveau inférieur n&apos;est pas proposé en ligne&#xa0;: l&apos;assistant invite à contacter le Service client.</translation>
    </message>
    <message>
        <source>Choose Edit subscription.</source>
        <translation>Choisissez Modifier l&apos;abonnement.</translation>
    </message>
    <message>
        <source>Choose a higher plan tier, more licences or another billing frequency, check the order summary at the bottom of the page and click Checkout.</source>
        <translation>Choisissez un niveau de formule supérieur, davantage de licences ou une autre fréquence de facturation, vérifiez le récapitulatif de la commande en bas de la page et cliquez sur Passer au paiement.</translation>
    </message>
    <message>
        <source>Check the billing period (it starts today), the licences, the prices and the total. Click Checkout, confirm the payment method if the new plan costs more, and click Place order.</source>
        <translation>Vérifiez la période de facturation (qui commence aujourd&apos;hui), les licences, les prix et le total. Cliquez sur Passer au paiement, confirmez le moyen de paiement si la nouvelle formule est plus chère, puis cliquez sur Passer la commande.</translation>
    </message>
    <message>
        <source>The result shows the new plan and billing date. Click Close.</source>
        <translation>Le résultat affiche la nouvelle formule et la nouvelle date de facturation. Cliquez sur Fermer.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation>Bienvenue dans Billing Desktop</translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation>Billing Desktop gère les comptes clients, leurs abonnements, leurs licences et leurs factures. Cette base de données est nouvelle et ne contient encore aucun compte&#xa0;: explorez d&apos;abord l&apos;application avec des clients d&apos;exemple, ou commencez à travailler tout de suite.</translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation>Base de données&#xa0;: {path}</translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation>Ouvrir la base de démonstration</translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation>Des comptes d&apos;exemple dans un fichier séparé, avec une horloge simulée que vous pouvez avancer. Cette base de données reste vide.</translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation>Commencer avec une base vide</translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation>Accéder à la liste des comptes et commencer à travailler dans cette base de données.</translation>
    </message>
</context>
<context>
    <name>_ClockMenu</name>
    <message>
        <source>Simulated &amp;Clock</source>
        <translation>&amp;Horloge simulée</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Day</source>
        <translation>Avancer d&apos;un &amp;jour</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Month</source>
        <translation>Avancer d&apos;un &amp;mois</translation>
    </message>
    <message>
        <source>Move to the &amp;Next Event</source>
        <translation>Aller à l&apos;événement &amp;suivant</translation>
    </message>
    <message>
        <source>Move to a D&amp;ate…</source>
        <translation>Aller à une &amp;date…</translation>
    </message>
</context>
</TS>
