# Assertions for scenario scripts, built on throw so they mean the same in the hosted runspace and in pwsh/Pester.
# Only core commands are used: the embedded engine has no Utility or Management module.
function Assert-True([bool] $Condition, [string] $Because) {
    if (-not $Condition) { throw "Assertion failed: $Because" }
}
function Assert-Equal($Expected, $Actual, [string] $Because) {
    if (-not ($Expected -eq $Actual)) { throw "Assertion failed: $Because (expected '$Expected', got '$Actual')" }
}
function Assert-Null($Actual, [string] $Because) {
    if ($null -ne $Actual) { throw "Assertion failed: $Because (expected `$null, got '$Actual')" }
}
function Assert-Throws([scriptblock] $Script, [string] $ErrorId, [string] $Because) {
    try { & $Script } catch {
        if ($ErrorId -and -not $_.FullyQualifiedErrorId.StartsWith($ErrorId)) {
            throw "Assertion failed: $Because (expected error '$ErrorId', got '$($_.FullyQualifiedErrorId)')"
        }
        return
    }
    throw "Assertion failed: $Because (nothing was thrown)"
}
