using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Diagnostics;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>
/// What Set- and Remove-PciPassthrough share: the addresses, -Force, -Persist, the bounded wait, and one way to
/// carry out a plan — warnings, ShouldProcess with every write listed, progress while waiting, the changed device out.
/// </summary>
public abstract class PciPassthroughCmdlet : VirtToolsCmdlet
{
    /// <summary>The functions, as text ("05:06.0", "0000:05:06.0") or from any object with an Address.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public PciAddress[] Address { get; set; } = Array.Empty<PciAddress>();

    /// <summary>Also write (or remove) the modprobe.d configuration and record, so the change survives reboot.</summary>
    [Parameter]
    public SwitchParameter Persist { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How long to wait for the driver link to show the new driver.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 10;

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var devices = new PciDeviceReader(SystemRoot);
        var planner = new PassthroughPlanner(devices);
        var applier = new PassthroughApplier(devices) { BindTimeout = TimeSpan.FromSeconds(TimeoutSec) };
        foreach (var address in Address)
        {
            try
            {
                var plan = Plan(planner, address);
                foreach (var warning in plan.Warnings) WriteWarning(warning);
                if (plan.ChangesNothing) WriteVerbose(NothingToDo(plan));
                else if (ShouldProcess(string.Join("\n", plan.Describe().Prepend(Action(plan) + ":")),
                             $"{Action(plan)}?\n{string.Join("\n", plan.Describe())}", MyInvocation.MyCommand.Name))
                {
                    var progress = new ProgressRecord(1, Action(plan), "Writing");
                    applier.Apply(plan, (status, percent) =>
                    {
                        progress.StatusDescription = status;
                        progress.PercentComplete = Math.Clamp(percent, 0, 100);
                        WriteProgress(progress);
                    }, Cancellation);
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
                else continue;
                WriteObject(devices.Find(plan.Address));
            }
            catch (VirtToolsException failure)
            {
                WriteFailure(failure, address);
            }
        }
    }

    private protected abstract PassthroughPlan Plan(PassthroughPlanner planner, PciAddress address);

    private protected abstract string Action(PassthroughPlan plan);

    private protected abstract string NothingToDo(PassthroughPlan plan);
}
