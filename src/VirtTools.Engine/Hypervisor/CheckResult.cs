namespace VirtTools.Hypervisor;

/// <summary>The outcome of one host check, in virt-host-validate's terms (Skip: the evidence is not there to judge).</summary>
public enum CheckResult
{
    Pass,
    Warn,
    Fail,
    Skip,
}
