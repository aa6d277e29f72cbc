using VirtTools.Usb;
using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp;

/// <summary>The failures about USB/IP exports and vhci ports that the readers and the commands report the same way.</summary>
public static class UsbIpErrors
{
    public const string ExportNotFound = "UsbIpExportNotFound";
    public const string PortNotFound = "UsbIpPortNotFound";
    public const string HostDriverMissingId = "UsbIpHostDriverMissing";
    public const string HubNotExportableId = "UsbIpHubNotExportable";
    public const string BindLoopId = "UsbIpBindLoop";
    public const string MatchTableFullId = "UsbIpMatchTableFull";
    public const string ExportInUseId = "UsbIpExportInUse";
    public const string BindFailedId = "UsbIpBindFailed";
    public const string UnexportFailedId = "UsbIpUnexportFailed";
    public const string NotGivenBackId = "UsbIpDeviceNotGivenBack";
    public const string InvalidBusIdId = "UsbIpInvalidBusId";
    public const string ConnectionLostId = "UsbIpConnectionLost";
    public const string InvalidAllowedClientId = "UsbIpInvalidAllowedClient";
    public const string ExportRecordInvalidId = "UsbIpExportRecordInvalid";
    public const string ExportStateCorruptId = "UsbIpExportStateCorrupt";
    public const string ExportRecordNotWrittenId = "UsbIpExportRecordNotWritten";
    public const string DeviceNotFoundId = "UsbIpDeviceNotFound";
    public const string DeviceNotAvailableId = "UsbIpDeviceNotAvailable";
    public const string DeviceBusyId = "UsbIpDeviceBusy";
    public const string DeviceErrorId = "UsbIpDeviceError";
    public const string ServerErrorId = "UsbIpServerError";
    public const string ServerTimeoutId = "UsbIpServerTimeout";
    public const string ServerUnreachableId = "UsbIpServerUnreachable";
    public const string PortInUseId = "UsbIpPortInUse";
    public const string ListenFailedId = "UsbIpListenFailed";
    public const string InvalidAddressId = "UsbIpInvalidAddress";
    public const string TlsCertificateInvalidId = "UsbIpTlsCertificateInvalid";
    public const string TlsHandshakeFailedId = "UsbIpTlsHandshakeFailed";
    public const string TlsServerNotTrustedId = "UsbIpTlsServerNotTrusted";
    public const string TlsRequiredId = "UsbIpTlsRequired";
    public const string TlsInvalidFingerprintId = "UsbIpTlsInvalidFingerprint";
    public const string GrantInvalidId = "UsbIpGrantInvalid";

    /// <summary>The size of usbip-host's match_busid table (MAX_BUSID in stub_main.c).</summary>
    public const int MatchTableSize = 16;

    public static VirtToolsException HostDriverMissing(UsbBusId busId) => new(HostDriverMissingId, FailureKind.NotInstalled,
        $"The usbip-host driver is not loaded (there is no /sys/bus/usb/drivers/usbip-host), so '{busId}' cannot be exported.",
        "Load it with 'modprobe usbip-host' (list usbip-host in /etc/modules-load.d/ to load it at boot), then try again.", busId);

    public static VirtToolsException HubNotExportable(UsbBusId busId) => new(HubNotExportableId, FailureKind.InvalidArgument,
        $"'{busId}' is a hub (class 09): usbip-host does not export hubs, and neither does 'usbip bind'.",
        "Export the devices plugged into the hub instead (Get-UsbDevice shows each with its ParentBusId).", busId);

    public static VirtToolsException BindLoop(UsbBusId busId, string controller) => new(BindLoopId, FailureKind.InvalidArgument,
        $"'{busId}' is itself imported over USB/IP (it sits on {controller}): exporting it again would make a bind loop, which usbip-host refuses.",
        "Export the device on the host it is physically plugged into.", busId);

    public static VirtToolsException MatchTableFull(UsbBusId busId, IReadOnlyList<UsbBusId> table, Exception cause) => new(MatchTableFullId, FailureKind.LimitExceeded,
        $"usbip-host's match_busid table is full: the kernel keeps at most {MatchTableSize} bus ids ({string.Join(" ", table)}), so '{busId}' cannot be added. The table lives in RAM and is emptied when usbip-host is unloaded.",
        "Stop exporting devices you no longer share with Remove-UsbIpExport. Entries of devices that are gone or no longer bound leave the table only through usbip-host's rebind (echo -n BUSID > /sys/bus/usb/drivers/usbip-host/rebind while the device is plugged in) or by reloading the module (modprobe -r usbip-host; modprobe usbip-host), which unexports everything.",
        busId, cause);

    /// <summary>
    /// The export's record could not be saved after usbip-host took the device: the export was undone, since a device
    /// no record remembers goes back to the generic driver, not to the one it came from, when another shell unexports it.
    /// </summary>
    public static VirtToolsException ExportRecordNotWritten(string recordFile, UsbBusId busId, Exception cause, string rollback) => new(ExportRecordNotWrittenId,
        cause is UnauthorizedAccessException || (cause as VirtToolsException)?.Kind == FailureKind.PermissionDenied ? FailureKind.PermissionDenied : FailureKind.OperationFailed,
        $"Recording the export of '{busId}' in {recordFile} failed: {cause.Message} {rollback}",
        (cause as VirtToolsException)?.RecommendedAction
            ?? $"Make {recordFile} writable again: check that its folder is a folder, not a file or a link, and that /run is not full or read-only; then export again.",
        busId, cause);

    public static VirtToolsException ExportInUse(UsbBusId busId) => new(ExportInUseId, FailureKind.ResourceBusy,
        $"'{busId}' is in use: a USB/IP client imported it (usbip_status 2). Unexporting it cuts that client off.",
        "Detach it on the client first (Disconnect-UsbIpDevice, or usbip detach), or confirm the prompt (or pass -Force) to take it away.", busId);

    public static VirtToolsException NoExport(string busId, bool driverLoaded) => new(ExportNotFound, FailureKind.NotFound,
        driverLoaded
            ? $"The USB device '{busId}' is not exported: usbip-host neither holds it nor lists it in match_busid."
            : $"The USB device '{busId}' is not exported: the usbip-host driver is not loaded, so nothing is.",
        driverLoaded ? "Export it with Export-UsbIpDevice, or run Get-UsbIpExport to see what is exported." : "Load the driver with 'modprobe usbip-host', then export the device with Export-UsbIpDevice.",
        busId);

    public static VirtToolsException InvalidAllowedClient(string entry, string problem) => new(InvalidAllowedClientId, FailureKind.InvalidArgument,
        $"The allowed client {problem}.",
        "Give addresses (192.0.2.7, ::1) or networks with no host bits set (10.0.0.0/8, fd00::/8), or 'any' to serve every client.", entry);

    public static VirtToolsException NoPort(int port, bool vhciLoaded) => new(PortNotFound, FailureKind.NotFound,
        vhciLoaded
            ? string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}.")
            : string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}: the vhci-hcd driver is not loaded."),
        vhciLoaded ? "Run Get-UsbIpPort to see the ports every vhci_hcd controller has." : "Load the driver with 'modprobe vhci-hcd'.",
        port);

    /// <summary>A bus id given to the client that no server could hold; refused before anything is sent.</summary>
    public static VirtToolsException InvalidBusId(string busId, string problem) => new(InvalidBusIdId, FailureKind.InvalidArgument,
        $"The bus id {Protocol.UsbIpPeerText.Quote(busId)} {problem}.",
        "Give the bus id as Get-UsbIpDevice lists it (such as 1-1.2).", busId);

    /// <summary>The connection to a server broke while the client waited for its reply (a reset, a network error).</summary>
    public static VirtToolsException ConnectionLost(string server, string computerName, Exception cause) => new(ConnectionLostId, FailureKind.ConnectionError,
        $"The connection to the USB/IP server {server} broke before its reply was complete: {cause.Message}.",
        $"Try again; if it keeps happening, look at the server's log on {server} and at the network between the two hosts.", computerName, cause);

    /// <summary>A certificate, key or CA file that cannot be used: missing, unreadable, not PEM, or a key of another certificate.</summary>
    public static VirtToolsException TlsCertificateInvalid(string path, string what, Exception? cause) => new(TlsCertificateInvalidId, FailureKind.InvalidData,
        $"The TLS {what} '{path}' cannot be used{(cause is null ? "" : ": " + cause.Message.TrimEnd('.'))}.",
        "Give PEM files (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY-----), the key being the certificate's own, readable by this user: 'openssl x509 -in FILE -noout -subject' and 'openssl pkey -in KEY -noout' check them.",
        path, cause);

    /// <summary>The TLS session with a server did not come up or broke before the USB/IP reply.</summary>
    public static VirtToolsException TlsHandshakeFailed(string server, string computerName, Exception cause, UsbIpTlsClientNames names) => new(TlsHandshakeFailedId, FailureKind.ConnectionError,
        $"The TLS session with the USB/IP server {server} failed: {cause.Message.TrimEnd('.')}.",
        $"Check that the server was started with a certificate (virttools usbipd --tls-certificate), and, when it asks for a client certificate (--client-ca), that {names.Certificate}/{names.Key} give one signed by that CA and not expired; the server's log names the reason.",
        computerName, cause);

    /// <summary>The server's certificate is not the one this client trusts (CA, name, or pinned fingerprint).</summary>
    public static VirtToolsException TlsServerNotTrusted(string server, string computerName, string reason, UsbIpTlsClientNames names) => new(TlsServerNotTrustedId, FailureKind.ConnectionError,
        $"The USB/IP server {server} is not trusted: {reason}. Nothing was sent to it.",
        $"Check {names.ServerCa} (the CA that signed the server's certificate, whose names must include the server name used) or {names.ServerFingerprint} (on the server: openssl x509 -in CERT -noout -fingerprint -sha256).",
        computerName);

    /// <summary>TLS asked for without what it needs (a certificate and its key).</summary>
    public static VirtToolsException TlsRequired(string what) => new(TlsRequiredId, FailureKind.InvalidArgument,
        $"TLS ({what}) needs a certificate and its key.",
        "Give both: virttools usbipd --tls-certificate FILE --tls-key FILE; Start-UsbIpServer, Get-UsbIpDevice and Connect-UsbIpDevice -CertificatePath FILE -KeyPath FILE; in a profile, certificate and key in usbip.server.tls or in an attachment's tls.",
        what);

    /// <summary>A pinned fingerprint that is not "sha256:" and 32 bytes in hex.</summary>
    public static VirtToolsException TlsInvalidFingerprint(string text, string problem) => new(TlsInvalidFingerprintId, FailureKind.InvalidArgument,
        $"The fingerprint {Protocol.UsbIpPeerText.Quote(text)} {problem}.",
        "Give 'sha256:' and the 64 hex digits of the server certificate's SHA-256 (colons allowed), as 'openssl x509 -in CERT -noout -fingerprint -sha256' prints it.",
        text);

    /// <summary>A grant that cannot be used: no identity, no device, a malformed fingerprint, or grants without client certificates to check.</summary>
    public static VirtToolsException GrantInvalid(string grant, string problem) => new(GrantInvalidId, FailureKind.InvalidArgument,
        $"The grant {Protocol.UsbIpPeerText.Quote(grant)} {problem}.",
        "Write a grant as IDENTITY=MATCH (--grant 'CN=desk-17=0781:5591', --grant sha256:HEX=1-1.2, --grant desk-17.example=*), the identity a client certificate's subject, CN, DNS name or sha256 fingerprint, the match VID:PID, a bus id, a serial number or *; grants need --client-ca, the CA that makes identities worth trusting.",
        grant);
}
