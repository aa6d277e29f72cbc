using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// Ctrl+C in the middle of Set-PciPassthrough: the pipeline is stopped the way virttools' signal handler stops it
/// (ShellSession.Stop), the cmdlet's StopProcessing cancels the engine, and every function moved so far goes back.
/// On the captured tree, IOMMU group 4 holds 00:1f.2 (SATA, put on ahci here) and 00:1f.3 (SMBus, on i801_smbus).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class PassthroughInterruptTests : IDisposable
{
    private const string Sata = "0000:00:1f.2";
    private const string Smbus = "0000:00:1f.3";
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(2);
    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly PowerShellHarness _ps = new();

    [Fact]
    public async Task Stopping_a_passthrough_in_progress_puts_every_function_back_on_its_original_driver()
    {
        _kernel.Pci.AddDriver("i801_smbus", "8086:2930").Bind(Smbus, "i801_smbus");
        _kernel.Pci.AddDriver("ahci").Bind(Sata, "ahci");
        // The SMBus moves first (the group member in the way), then the SATA controller, whose probe by vfio-pci
        // hangs until the test lets it finish: the move is in progress, with one function already on vfio-pci.
        _kernel.Pci.DeferProbe(Sata);
        var run = Task.Run(() => _ps.Run("param($root) Set-PciPassthrough -Root $root 00:1f.2 -IncludeIommuGroup -TimeoutSec 600 -Confirm:$false",
            new Dictionary<string, object?> { ["root"] = _kernel.RootPath }, render: true));
        Assert.True(_kernel.Pci.WaitForDeferredProbe(Generous), "the SATA controller's probe never started");
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(Smbus));

        _ps.Stop();

        var result = await run.WaitAsync(Generous);
        Assert.True(result.Stopped, PowerShellHarness.Describe(result));
        Assert.Equal(("i801_smbus", "ahci"), (_kernel.Pci.DriverOf(Smbus), _kernel.Pci.DriverOf(Sata)));
        Assert.Equal((null, null), (_kernel.Pci.DriverOverrideOf(Smbus), _kernel.Pci.DriverOverrideOf(Sata)));
        Assert.False(_kernel.Pci.VfioGroupNodeExists(4));
        Assert.Empty(new PassthroughStateStore(_kernel.Root).Load());
        // The probe the kernel still had pending finds the controller back on ahci and leaves it there.
        _kernel.Pci.CompleteDeferredProbes();
        Assert.Equal("ahci", _kernel.Pci.DriverOf(Sata));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
