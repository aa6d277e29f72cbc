using System.Management.Automation;
using System.Net;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// Start-UsbIpServer: serve the devices bound to usbip-host (under -Root) in this process, in the background,
/// until Stop-UsbIpServer or the end of the session. Outputs the live server object. With -CertificatePath and
/// -KeyPath the same port also serves TLS, whose imports this session relays (they end with the server). With
/// -ClaimPort the session also holds those hub ports claimed, as virttools usbipd --claim-port does.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "UsbIpServer", SupportsShouldProcess = true)]
[OutputType(typeof(UsbIpServer))]
public sealed class StartUsbIpServerCommand : VirtToolsCmdlet
{
    /// <summary>Addresses to listen on; none: loopback only (127.0.0.1 and ::1), as the default allow-list.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Address { get; set; }

    /// <summary>0 picks a free port, reported in the output's TcpPort.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int TcpPort { get; set; } = UsbIpProtocol.DefaultTcpPort;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowedClient { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCaPath { get; set; }

    [Parameter]
    public SwitchParameter RequireTls { get; set; }

    /// <summary>IDENTITY=MATCH, as virttools usbipd --grant: who may list and import which devices (needs -ClientCaPath).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Grant { get; set; }

    /// <summary>Bus ids whose hub ports are held claimed for sharing, as virttools usbipd --claim-port.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateCount(1, ProfileLimits.MaxClaimPorts)]
    public UsbBusId[]? ClaimPort { get; set; }

    /// <summary>
    /// Seconds after which a client that vanished without a word frees its device (usbip_status back to 1), as
    /// virttools usbipd --dead-peer-timeout and the profile's usbip.deadPeerTimeout.
    /// </summary>
    [Parameter]
    [ValidateRange(UsbIpDeadPeerPolicy.MinimumSeconds, UsbIpDeadPeerPolicy.MaximumSeconds)]
    public int DeadPeerTimeout { get; set; } = UsbIpDeadPeerPolicy.DefaultSeconds;

    protected override void BeginProcessing() => RequireRoot();

    protected override void EndProcessing()
    {
        try
        {
            var addresses = (Address ?? Array.Empty<string>()).Select(ParseAddress).ToList();
            var allowed = AllowedClient is null ? ClientAllowList.LoopbackOnly : ClientAllowList.Parse(AllowedClient);
            var tls = UsbIpTlsServerSettings.From(FilePath(CertificatePath), FilePath(KeyPath), FilePath(ClientCaPath), RequireTls,
                ("-CertificatePath", "-KeyPath", "-ClientCaPath", "-RequireTls"), Grant?.Select(UsbIpGrant.Parse).ToList());
            var claimPorts = (ClaimPort ?? Array.Empty<UsbBusId>()).Select(ClaimablePort).Distinct().ToList();
            var where = addresses.Count == 0 ? "loopback (127.0.0.1, ::1)" : string.Join(", ", addresses);
            var protocols = tls is null ? "" : tls.Require ? ", TLS only" : ", USB/IP and TLS";
            var claims = claimPorts.Count == 0 ? "" : $", claiming the ports of {string.Join(", ", claimPorts)}";
            if (!ShouldProcess($"TCP port {TcpPort} on {where}, for {string.Join(", ", allowed.Entries)}{protocols}{claims}, a vanished client's device freed after {DeadPeerTimeout} s",
                    "Start USB/IP server")) return;
            var root = SystemRoot;
            var keeper = claimPorts.Count == 0 ? null : StartKeeper(root, claimPorts);
            UsbIpServer server;
            try
            {
                server = UsbIpServer.Start(CachedExportedDeviceSource.For(root), new SysfsSocketHandoff(root, UsbIpDeadPeerPolicy.Within(TimeSpan.FromSeconds(DeadPeerTimeout))), new UsbIpServerOptions
                {
                    Addresses = addresses,
                    TcpPort = TcpPort,
                    AllowedClients = allowed,
                    Root = root.Path,
                    Tls = tls,
                });
            }
            catch
            {
                keeper?.Dispose(); // a server that did not start claims nothing
                throw;
            }
            UsbIpServerRegistry.Add(server, keeper);
            WriteObject(server);
        }
        catch (VirtToolsException failure)
        {
            ThrowFailure(failure);
        }
        finally
        {
            base.EndProcessing();
        }
    }

    /// <summary>
    /// The keeper of the claimed ports, its first round done here so that what it did or could not do is said as
    /// verbose output; later rounds (on each USB uevent) run in the background and log nowhere, as the server does.
    /// </summary>
    private ClaimedPortKeeper StartKeeper(SystemRoot root, IReadOnlyList<UsbBusId> claimPorts)
    {
        var firstRound = new List<string>();
        var collecting = true; // the first round runs on this thread, before the background loop starts
        var keeper = new ClaimedPortKeeper(root, line => { if (collecting) firstRound.Add(line); });
        try
        {
            keeper.Reserve(claimPorts);
            keeper.Reconcile();
        }
        catch
        {
            keeper.Dispose();
            throw;
        }
        collecting = false;
        foreach (var line in firstRound) WriteVerbose(line);
        keeper.Start();
        return keeper;
    }

    private static UsbBusId ClaimablePort(UsbBusId busId) => HubPort.TryFrom(busId, out _) ? busId : throw UsbErrors.NotAPort(busId);

    private string? FilePath(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);

    private static IPAddress ParseAddress(string text) => IPAddressText.Parse(text, out var problem)
        ?? throw new VirtToolsException(UsbIpErrors.InvalidAddressId, FailureKind.InvalidArgument, $"-Address {problem}.",
            "Give addresses of this host such as 0.0.0.0, ::, 127.0.0.1 or 192.0.2.10; leave -Address out to listen on loopback only.", text);
}
