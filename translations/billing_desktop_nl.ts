<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl">
<context>
    <name></name>
    <message>
        <source>CrashDialog</source>
        <comment>Unexpected error</comment>
        <extracomment>After the window is shown: open the log file, then warm up the write path.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CrashDialog</source>
        <comment>Billing Desktop ran into an unexpected error.</comment>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>CrashDialog</source>
        <comment>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</comment>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>CrashDialog</source>
        <comment>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</comment>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>CrashDialog</source>
        <comment>Quit</comment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Activity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emails</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AccountsTableModel</name>
    <message>
        <source>Standard</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Corporate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Closed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account ID</source>
        <extracomment>The :class:`AccountRow` behind a row (any column). The value the column sorts by in SQL (the keyset cursor value).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Company</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Representative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscriptions in trial, active or pending cancellation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All types</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Action</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System</source>
        <extracomment>A page could not be read (the account was deleted meanwhile, …).</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ActivityTab</name>
    <message>
        <source>Licences assigned</source>
        <extracomment>Translation context of the constant words below. What each audit action means, in words (the codes the services write).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active until</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Period start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Period end</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Term start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Term end</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Company</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>City</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Region</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Currency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Brand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Holder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verified</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annual</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Yes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Before</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>After</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What changed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>Billing Desktop</source>
        <extracomment>contexts the lower layers mark their messages with, most specific first</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>“{location}” is neither a database file nor a server address.</source>
        <extracomment>customer emails in the account&apos;s language, for every database opened</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Month to month, billed monthly</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active until</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CancellationsModel</name>
    <message>
        <source>Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box) how a line is billed, as a whole phrase (never a lower-cased frequency word) &quot;per licence per month|year&quot; for the price of a tier or an add-on a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) the Plan page; ``None`` when the wizard was opened from the cart</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConfirmPage</name>
    <message>
        <source>Account:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{account}, {company}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bought</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>{title} — {more}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DatabaseError</name>
    <message>
        <source>The database {path} cannot be used: {detail}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DatabasePage</name>
    <message>
        <source>Database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the database file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Buy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code. Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
Kind regards,
Your billing team

Account {account_number} · {company_name}
</source>
        <extracomment>Appended to every body.</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EmailsModel</name>
    <message>
        <source>Date</source>
        <extracomment>The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``). the server-level problem (unreachable, login refused), in the service&apos;s words The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Service period</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VOID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Void</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>The :class:`InvoiceListRow` behind a row (any column). The value the column sorts by in SQL; None for a column that does not sort. Blocks of rows kept in memory (the rest is read again by id when shown).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Company</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Service period</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Void</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>sort order of the statuses: what needs attention first A value that sorts the column correctly (ints and strings only).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Service period</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Roles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Support</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Representative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emails</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Role:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches. The :class:`OutboxRow` behind a row (any column).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Roles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Company</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optional</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Representative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Revert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reload</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaymentMethods</name>
    <message>
        <source>Visa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mastercard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>American Express</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Discover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maestro</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JCB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Diners Club</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Card</source>
        <extracomment>Characters a card number may be typed with: digits, spaces and dashes (19 digits + gaps). An IBAN as typed: letters, digits and spaces (34 characters + gaps). Fewer digits than this and the number is still being typed: no error yet.</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaymentMethodsModel</name>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Holder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expires</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expired</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{old} → {new}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QuickSearchDialog</name>
    <message>
        <source>Type an account ID, a company name, a contact&apos;s name or email, or an invoice number.</source>
        <extracomment>The user chose an account; carries its id.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RenewalsModel</name>
    <message>
        <source>Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amount</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Yes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requester</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} ({roles}), {email}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ResultPage</name>
    <message numerus="yes">
        <source>%n item(s) cancelled. Auto-renewal is off.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Email:</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{plan}, {licences}, {billing}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next billing date:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account</source>
        <extracomment>Entries per page unless the caller asks for another size. The most one call returns, whatever ``limit`` says. the field did not exist before (a creation) / does not exist after (a removal) the product of the subscription the entry is about, if any the account&apos;s currency, for fields holding minor units (``…_minor``) fields whose value changed, in the order they were recorded
----------
Subscription statuses that are &quot;bought&quot; and can be changed through checkout. ids of the stored items making up this line (to remove the line) pass back as ``expected_cart_version``; ``None`` while the account has no cart the stored row this change is (None: not stored yet) set: the add-on was cancelled and ends on this date (see cancellation) licences assigned to contacts in the order of ``Subscription.addons`` (by add-on) by id, as ``Account.contacts`` and ``Account.payment_methods`` by position (ORM attributes: a session executing it flushes pending changes first) every subscription of the account with its product, plan, assigned licences and add-ons (one row per add-on)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only support staff can do this.</source>
        <extracomment>Read-only actions every active role may perform. Actions that change one account; the account rules of SPEC §6 apply. Support-only powers behind the self-service flows (SPEC §3): not for representatives, who work on their own portfolio through the normal flows.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the pattern</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The cart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; corporate: invoiced on payment terms instead of charged licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>a subscription&apos;s columns checkout writes (the SET clause comes from the values)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused) in plain English, if any the server&apos;s or the connection&apos;s complaint of the last failed attempt when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>&amp;System</source>
        <extracomment>Each language by its own name (never translated: a reader looks for their own).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>STARTTLS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SSL/TLS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <extracomment>The user chose another database (a file path or a URL); switch to it now. The language was applied (&quot;it&quot;; &quot;&quot; for the system&apos;s language). The theme was applied (&quot;system&quot;, &quot;light&quot;, &quot;dark&quot;). The operator&apos;s name or email changed; carries the new ``OperatorInfo``.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SmtpPage</name>
    <message>
        <source>Mail server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing Desktop test email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In total</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow. Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Options</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contract</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{product}, {status}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Press Space or Enter for the options.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ThemePage</name>
    <message>
        <source>Theme</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>self.model</name>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
</context>
</TS>
