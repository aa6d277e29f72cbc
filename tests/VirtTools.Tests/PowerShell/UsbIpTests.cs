using System.Management.Automation;
using VirtTools.Usb;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.PowerShell;

[Collection(PowerShellCollection.Name)]
public sealed class UsbIpTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    [Fact]
    public async Task Get_UsbIpDevice_lists_what_our_server_serves_with_names_and_identity_properties()
    {
        await using var server = new UsbIpServerFixture();
        var device = _ps.Ok<UsbIpRemoteDevice>("param($p) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p", new Dictionary<string, object?> { ["p"] = server.Port }).Single();
        Assert.Equal(("127.0.0.1", server.Port, "2-3", "46f4", "0001"), (device.ComputerName, device.TcpPort, device.BusId.ToString(), device.VendorId, device.ProductId));
    }

    [Fact]
    public async Task Get_UsbIpDevice_binds_ComputerName_and_TcpPort_by_property_name()
    {
        await using var server = new UsbIpServerFixture();
        var output = _ps.Ok("param($p) [pscustomobject]@{ ComputerName = '127.0.0.1'; TcpPort = $p } | Get-UsbIpDevice", new Dictionary<string, object?> { ["p"] = server.Port });
        Assert.Equal("2-3", ((UsbIpRemoteDevice)Assert.Single(output).BaseObject).BusId.ToString());
    }

    [Fact]
    public void A_refused_connection_is_error_UsbIpServerUnreachable_with_the_host_as_target()
    {
        var result = _ps.Run("param($p) Get-UsbIpDevice 127.0.0.1 -TcpPort $p", new Dictionary<string, object?> { ["p"] = UsbIpClientTests.ClosedPort() });
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpServerUnreachable,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.Equal("127.0.0.1", error.TargetObject);
        Assert.Contains("usbipd", error.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void A_server_that_never_answers_is_error_UsbIpServerTimeout()
    {
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, 0));
        silent.Listen(1);
        var port = ((System.Net.IPEndPoint)silent.LocalEndPoint!).Port;
        var result = _ps.Run("param($p) Get-UsbIpDevice ::1 -TcpPort $p -TimeoutSec 1", new Dictionary<string, object?> { ["p"] = port });
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpServerTimeout,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
    }

    [Fact]
    public void Start_UsbIpServer_serves_the_root_and_Stop_UsbIpServer_stops_it()
    {
        using var root = CapturedFixture.CreateCopy();
        root.File("/sys/bus/usb/devices/2-3/usbip_status", "1");
        var server = _ps.Ok<UsbIpServer>("param($r) Start-UsbIpServer -Root $r -Address 127.0.0.1 -TcpPort 0", new Dictionary<string, object?> { ["r"] = root.Path }).Single();
        Assert.True(server.IsRunning);
        Assert.NotEqual(0, server.TcpPort);
        Assert.Equal(new[] { "127.0.0.0/8", "::1/128" }, server.AllowedClient);
        var busIds = _ps.Ok<UsbBusId>("param($s) (Get-UsbIpDevice 127.0.0.1 -TcpPort $s.TcpPort).BusId", new Dictionary<string, object?> { ["s"] = server });
        Assert.Equal(new[] { UsbBusId.Parse("2-3") }, busIds);
        Assert.Equal(1, server.Connections);
        _ps.Ok("param($s) $s | Stop-UsbIpServer", new Dictionary<string, object?> { ["s"] = server });
        Assert.False(server.IsRunning);
        Assert.StartsWith("UsbIpServerUnreachable,", _ps.Run("param($p) Get-UsbIpDevice 127.0.0.1 -TcpPort $p", new Dictionary<string, object?> { ["p"] = server.TcpPort }).Errors.Single().FullyQualifiedErrorId);
    }

    [Fact]
    public void Start_UsbIpServer_on_a_port_in_use_is_error_UsbIpPortInUse()
    {
        var first = _ps.Ok<UsbIpServer>("Start-UsbIpServer -Address 127.0.0.1 -TcpPort 0").Single();
        try
        {
            var result = _ps.Run("param($p) Start-UsbIpServer -Address 127.0.0.1 -TcpPort $p", new Dictionary<string, object?> { ["p"] = first.TcpPort });
            Assert.StartsWith("UsbIpPortInUse,", (result.Terminating?.ErrorRecord ?? result.Errors.Single()).FullyQualifiedErrorId);
        }
        finally
        {
            _ps.Ok("Stop-UsbIpServer");
        }
        Assert.False(first.IsRunning);
    }

    [Fact]
    public void Start_UsbIpServer_WhatIf_starts_nothing()
    {
        Assert.Empty(_ps.Ok("Start-UsbIpServer -AllowedClient 192.0.2.0/24 -WhatIf"));
        Assert.Contains("192.0.2.0/24", _ps.HostText);
    }

    [Fact]
    public void A_bad_allowed_client_is_error_UsbIpInvalidAllowedClient()
    {
        var result = _ps.Run("Start-UsbIpServer -TcpPort 0 -AllowedClient 'not-a-network'");
        Assert.StartsWith("UsbIpInvalidAllowedClient,", (result.Terminating?.ErrorRecord ?? result.Errors.Single()).FullyQualifiedErrorId);
    }

    public void Dispose() => _ps.Dispose();
}
